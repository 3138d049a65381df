// Issue 9, item 3: a rejected edge must not hide later cycles of live locks.
//
// A -> B -> C -> A is reported (C -> A is rejected: kept out of the order). B is destroyed, so that
// cycle is gone. Then A -> D and D -> C make a new live cycle A -> D -> C -> A through the same C -> A
// acquisition: it must be reported.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>

#include "lockgraph/lockgraph.hpp"
#include "support/reports.hpp"
#include "support/threads.hpp"

namespace {

using lgtest::canonical_cycle;
using lgtest::nest;
using lgtest::report_watch;

// Everything on the calling thread, as a program would do it (so the thread's chain cache, which has
// seen C -> A, is involved too).
TEST(RejectedEdge, NewCycleThroughARejectedEdgeIsReported) {
  report_watch w;
  lockgraph::mutex a("ra.A"), c("ra.C"), d("ra.D");
  {
    lockgraph::mutex b("ra.B");
    nest(a, b);
    nest(b, c);
    nest(c, a);  // closes A -> B -> C -> A
    ASSERT_EQ(w.count(), 1u) << w.kinds();
    EXPECT_EQ(canonical_cycle(w.fresh()[0]), "ra.A => ra.B => ra.C => ra.A");
  }
  nest(a, d);
  nest(d, c);
  nest(c, a);  // the same C -> A again: now it closes A -> D -> C -> A
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 2u) << w.kinds();
  EXPECT_EQ(reps[1].kind, lockgraph::report_kind::lock_order_inversion);
  EXPECT_EQ(canonical_cycle(reps[1]), "ra.A => ra.D => ra.C => ra.A");
}

// The same, with the last C -> A taken on a fresh thread (no thread-local cache can be involved): only
// the graph's memory of the rejected edge hides the cycle.
TEST(RejectedEdge, NewCycleThroughARejectedEdgeIsReportedFromAnotherThread) {
  report_watch w;
  lockgraph::mutex a("rb.A"), c("rb.C"), d("rb.D");
  {
    lockgraph::mutex b("rb.B");
    nest(a, b);
    nest(b, c);
    nest(c, a);
    ASSERT_EQ(w.count(), 1u) << w.kinds();
  }
  nest(a, d);
  nest(d, c);
  lgtest::in_thread([&] { nest(c, a); });
  const auto reps = w.fresh();
  ASSERT_EQ(reps.size(), 2u) << w.kinds();
  EXPECT_EQ(canonical_cycle(reps[1]), "rb.A => rb.D => rb.C => rb.A");
}

// Control (passes today): a new cycle that does not reuse the rejected edge is reported.
TEST(RejectedEdge, NewCycleThroughOtherEdgesIsReported) {
  report_watch w(/*instance_scope_only=*/true);  // classes A -> B -> C -> D -> A: a class cycle besides
  lockgraph::mutex a("rc.A"), c("rc.C"), d("rc.D");
  {
    lockgraph::mutex b("rc.B");
    nest(a, b);
    nest(b, c);
    nest(c, a);
    ASSERT_EQ(w.count(), 1u) << w.kinds();
  }
  nest(c, d);
  nest(d, a);  // the order now has C -> D -> A (no cycle: C -> A was never accepted)
  nest(a, c);  // a new edge A -> C closes A -> C -> D -> A
  ASSERT_EQ(w.count(), 2u) << w.kinds();
  EXPECT_EQ(canonical_cycle(w.fresh()[1]), "rc.A => rc.C => rc.D => rc.A");
}

}  // namespace
