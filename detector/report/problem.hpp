// problem: what detection hands to the report pipeline, as plain values.
//
// Every detector part that finds something (the lock-order graph, the wait-for graph, the misuse
// checks, the watchdog) fills one `problem` and nothing more: it never writes a summary, a dedupe key or
// any text. build_report() turns a problem into the public `report` value (summary included) and
// dedupe_key() names the problem so the sink raises it once per process. Those two functions are the only
// place that describes a problem in words; to_text/to_json/to_dot only lay the report out.
//
// Pure values: no pointer into detector state, so a problem can be built under one lock and raised after
// releasing it, or built by a tool (lockgraph-merge) that has no running program at all.
#ifndef LOCKGRAPH_DETECTOR_REPORT_PROBLEM_HPP
#define LOCKGRAPH_DETECTOR_REPORT_PROBLEM_HPP

#include <cstdint>
#include <string>
#include <vector>

#include "lockgraph/report.hpp"

namespace lockgraph::detail {

// One edge of a lock-order cycle by identity: graph node ids and shared bits. Labels may repeat (two
// locks built at one line); ids do not, so the dedupe key is made of these.
struct edge_id {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  bool from_shared = false;
  bool to_shared = false;
};

struct problem {
  report_kind kind = report_kind::lock_order_inversion;

  // The locks and threads it is about; their meaning per kind is report's (see lockgraph/report.hpp):
  //  - lock_order_inversion: locks (the cycle), edges (first sightings), edge_ids;
  //  - deadlock: threads[i] waits for threads[i].waits_for, held by threads[i + 1];
  //  - self_deadlock, bad_unlock: locks = {the lock}, `shared` = the mode of the call;
  //  - unreleased_lock: threads = {the holder, with its holds}, `when` = where it was found;
  //  - long_wait: threads = {the waiter, then the holders it waits behind}; a holder with an empty
  //    waits_for is running; `condition` = the waiter waits on a condition variable; `wait_seq`
  //    identifies the wait; `when` = who asked, if not the watchdog ("at check_quiescent()");
  //  - all_threads_blocked: threads = every blocked thread (its wait, holds and stack; `waits` says which
//    are condition waits), then exited threads that left an awaited lock held (`exited`);
//  - assertion_failed: locks = {the lock}, `assertion` = the member called ("assert_held()"), `when` =
  //    its site ("file.cpp:12"), `held_as` = how the thread holds the lock.
  std::vector<std::string> locks;
  std::vector<lock_edge> edges;
  std::vector<edge_id> edge_ids;
  std::vector<thread_state> threads;
  // all_threads_blocked: per blocked thread (the first waits.size() of `threads`), its wait_seq and
  // whether it waits on a condition variable (else on a lock).
  struct wait_info {
    std::uint64_t seq = 0;
    bool condition = false;
  };
  std::vector<wait_info> waits;

  // The thread that found it, what it held and where it was (empty stack when unknown).
  thread_ref thread;
  std::vector<held_lock> held;
  stack_trace stack;

  bool shared = false;
  bool condition = false;
  std::uint64_t wait_seq = 0;
  std::string when;
  std::string assertion;
  enum class holding : std::uint8_t { none, shared, exclusive } held_as = holding::none;

  // lock_order_inversion against a declared lock order (lock_order=FILE): locks = {held, taken},
  // edges = {the acquisition}, `declaration` = the rules it contradicts; an empty `declaration` means
  // an order the file does not allow (lock_order_strict=1).
  bool declared = false;
  std::vector<std::string> declaration;
};

// The report for `p`: every field but `sequence` and `files`, which the sink fills. Pure; symbolizes
// nothing.
report build_report(const problem& p);

// The name of the problem for "once per distinct problem per process" (the same cycle closed from
// another edge, the same misuse from the same site, the same wait). Symbolizes the innermost user frame
// of self_deadlock and bad_unlock stacks: call it off the hot path.
std::string dedupe_key(const problem& p);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_REPORT_PROBLEM_HPP
