// tests/lock_order_graph_test.cpp: the lock-order graph on its own (graph/lock_order_graph.hpp), with
// lock_meta values and a graph of the test's own: no threads, no runtime, no sink. What it promises:
// lazy stable nodes, one outcome per edge (accepted / known / closes_cycle), a closing edge rejected
// and described (locks, edges, ids), the reader/writer rule, removal of a destroyed lock, the snapshot.
#include "graph/lock_order_graph.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "report/problem.hpp"

namespace {

using lockgraph::detail::edge_key;
using lockgraph::detail::edge_outcome;
using lockgraph::detail::lock_meta;
using lockgraph::detail::lock_order_graph;
using lockgraph::detail::lock_type;
using lockgraph::detail::problem;
using lockgraph::detail::site;

class LockOrderGraph : public ::testing::Test {
 protected:
  // x -> y, both exclusive unless said otherwise.
  edge_outcome add(lock_meta& x, lock_meta& y, bool x_shared = false, bool y_shared = false) {
    cycle_ = problem{};
    return graph_.add(edge_key{graph_.node_of(x), graph_.node_of(y), x_shared, y_shared}, false,
                      lockgraph::thread_ref{7, "adder"}, {}, &cycle_);
  }
  // "a => b => c" with the cycle rotated to start at its smallest label.
  std::string cycle() const {
    std::vector<std::string> l = cycle_.locks;
    if (l.empty()) return "";
    std::rotate(l.begin(), std::min_element(l.begin(), l.end()), l.end());
    std::string s;
    for (const auto& x : l) s += x + " => ";
    return s + l.front();
  }

  lock_order_graph graph_;
  problem cycle_;
};

TEST_F(LockOrderGraph, NodeIsCreatedLazilyAndStaysTheSame) {
  lock_meta a("a", lock_type::mutex);
  EXPECT_EQ(a.node.load(), 0u);
  EXPECT_EQ(graph_.node_count(), 0u);
  const std::uint64_t n = graph_.node_of(a);
  EXPECT_NE(n, 0u);
  EXPECT_EQ(a.node.load(), n);
  EXPECT_EQ(graph_.node_of(a), n);
  EXPECT_EQ(graph_.node_count(), 1u);
}

// a -> b twice: accepted, then known; known() sees it.
TEST_F(LockOrderGraph, SecondSightingOfAnEdgeIsKnown) {
  lock_meta a("a", lock_type::mutex), b("b", lock_type::mutex);
  EXPECT_EQ(add(a, b), edge_outcome::accepted);
  EXPECT_TRUE(graph_.known(edge_key{a.node.load(), b.node.load(), false, false}));
  EXPECT_FALSE(graph_.known(edge_key{b.node.load(), a.node.load(), false, false}));
  EXPECT_EQ(add(a, b), edge_outcome::known);
  EXPECT_EQ(graph_.edge_count(), 1u);
}

// Cycle: a -> b -> c -> a. The closing edge is rejected (the graph stays acyclic), described with its
// locks, one edge per hop (the closing one last, with its thread) and ids, and remembered as known.
TEST_F(LockOrderGraph, EdgeThatClosesACycleIsRejectedAndDescribed) {
  lock_meta a("a", lock_type::mutex), b("b", lock_type::mutex), c("c", lock_type::mutex);
  EXPECT_EQ(add(a, b), edge_outcome::accepted);
  EXPECT_EQ(add(b, c), edge_outcome::accepted);
  ASSERT_EQ(add(c, a), edge_outcome::closes_cycle);
  EXPECT_EQ(cycle_.kind, lockgraph::report_kind::lock_order_inversion);
  EXPECT_EQ(cycle(), "a => b => c => a");
  ASSERT_EQ(cycle_.edges.size(), 3u);
  EXPECT_EQ(cycle_.edge_ids.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(cycle_.edges[i].from, cycle_.locks[i]);
    EXPECT_EQ(cycle_.edges[i].to, cycle_.locks[(i + 1) % 3]);
    EXPECT_EQ(cycle_.edges[i].thread.name, "adder");
  }
  EXPECT_EQ(graph_.edge_count(), 2u);  // the rejected edge is not in the order
  EXPECT_EQ(add(c, a), edge_outcome::known);
  EXPECT_TRUE(cycle_.locks.empty());  // described once
}

// Two readers never block each other: shared(a) -> shared(b) and shared(b) -> shared(a) is no cycle.
// A writer on the way makes it one: b held exclusive -> a exclusive.
TEST_F(LockOrderGraph, SharedOnlyCycleIsAcceptedAWriterClosesIt) {
  lock_meta a("a", lock_type::shared_mutex), b("b", lock_type::shared_mutex);
  EXPECT_EQ(add(a, b, true, true), edge_outcome::accepted);
  EXPECT_EQ(add(b, a, true, true), edge_outcome::accepted);
  EXPECT_EQ(add(b, a, false, false), edge_outcome::closes_cycle);
  EXPECT_EQ(cycle(), "a => b => a");
}

// Two locks built at one line have one label; in a report they are told apart by their node number.
TEST_F(LockOrderGraph, SameLabelTwiceIsMadeUniqueInTheCycle) {
  lock_meta x(site{"same.cpp", 3}, lock_type::mutex), y(site{"same.cpp", 3}, lock_type::mutex);
  EXPECT_EQ(add(x, y), edge_outcome::accepted);
  ASSERT_EQ(add(y, x), edge_outcome::closes_cycle);
  ASSERT_EQ(cycle_.locks.size(), 2u);
  EXPECT_NE(cycle_.locks[0], cycle_.locks[1]);
  EXPECT_EQ(cycle_.locks[0].rfind("same.cpp:3#", 0), 0u) << cycle_.locks[0];
}

// A destroyed lock takes its node and edges along: b -> a is then no cycle.
TEST_F(LockOrderGraph, RemovedLockTakesItsEdgesAlong) {
  lock_meta a("a", lock_type::mutex), b("b", lock_type::mutex);
  EXPECT_EQ(add(a, b), edge_outcome::accepted);
  graph_.remove(a.node.load());
  EXPECT_EQ(graph_.node_count(), 1u);
  EXPECT_EQ(graph_.edge_count(), 0u);
  lock_meta a2("a", lock_type::mutex);
  EXPECT_EQ(add(b, a2), edge_outcome::accepted);
}

// The snapshot shows every edge once, the rejected one marked, and the cycle's edges in it.
TEST_F(LockOrderGraph, SnapshotShowsAcceptedAndRejectedEdges) {
  lock_meta a("a", lock_type::mutex), b("b", lock_type::mutex);
  EXPECT_EQ(add(a, b), edge_outcome::accepted);
  EXPECT_EQ(add(b, a), edge_outcome::closes_cycle);
  const auto s = graph_.snapshot();
  EXPECT_EQ(s.nodes.size(), 2u);
  ASSERT_EQ(s.edges.size(), 2u);
  int rejected = 0, in_cycle = 0;
  for (const auto& e : s.edges) {
    rejected += e.rejected;
    in_cycle += e.in_cycle;
    EXPECT_EQ(e.thread.id, 7u);
  }
  EXPECT_EQ(rejected, 1);
  EXPECT_EQ(in_cycle, 2);
}

}  // namespace
