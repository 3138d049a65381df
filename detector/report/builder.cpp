// builder.cpp: problem -> report (see problem.hpp). Every summary line and dedupe key is written here.
#include <algorithm>
#include <string>
#include <vector>

#include "base/labels.hpp"
#include "base/stack_trace.hpp"
#include "report/problem.hpp"

namespace lockgraph::detail {
namespace {

std::string thread_phrase(const thread_ref& t) { return "thread " + thread_label(t); }

std::string join(const std::vector<std::string>& parts, const char* sep = ", ") {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string sorted_parts(std::vector<std::string> parts) {
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += " " + p;
  return out;
}

std::string inversion_summary(const problem& p) {
  std::string s = "lock-order inversion: ";
  for (const auto& l : p.locks) s += l + " => ";
  return s + (p.locks.empty() ? std::string() : p.locks.front());
}

// "lock-order inversion: b acquired while holding a, against the declared lock order (order.txt:3: b -> a)".
std::string declared_summary(const problem& p) {
  const std::string& held = p.locks.front();
  const std::string& taken = p.locks.back();
  if (p.declaration.empty()) {
    return "undeclared lock order: " + taken + " acquired while holding " + held +
           ", an order the declared lock order does not allow (lock_order_strict=1)";
  }
  return "lock-order inversion: " + taken + " acquired while holding " + held +
         ", against the declared lock order (" + join(p.declaration, "; ") + ")";
}

std::string deadlock_summary(const problem& p) {
  std::string s = "deadlock: ";
  for (std::size_t i = 0; i < p.threads.size(); ++i) {
    const std::size_t next = (i + 1) % p.threads.size();
    s += thread_label(p.threads[i].thread) + " waits for " + p.threads[i].waits_for + " held by " +
         thread_label(p.threads[next].thread) + (next == 0 ? "" : ", ");
  }
  return s;
}

std::string self_deadlock_summary(const problem& p) {
  const std::string& lock = p.locks.front();
  const bool held_shared =
      std::any_of(p.held.begin(), p.held.end(), [&](const held_lock& h) { return h.lock == lock && h.shared; });
  return "self-deadlock: " + thread_phrase(p.thread) + " blocks on " + lock +
         (p.shared ? " (shared)" : " (exclusive)") + " which it already holds" +
         (held_shared ? " (shared)" : " (exclusive)");
}

std::string bad_unlock_summary(const problem& p) {
  return "bad unlock: " + thread_phrase(p.thread) + (p.shared ? " calls unlock_shared() on " : " unlocks ") +
         p.locks.front() + (p.shared ? ", which it does not hold shared" : ", which it does not hold") +
         "; the lock was left as it was";
}

std::vector<std::string> held_labels(const problem& p) {
  std::vector<std::string> out;
  if (!p.threads.empty()) {
    for (const auto& h : p.threads.front().holds) out.push_back(h.lock);
  }
  return out;
}

// "T1 blocked 120 ms on a, held by T2, which waits for b, held by T3 (running)".
std::string long_wait_summary(const problem& p) {
  const thread_state& w = p.threads.front();
  std::string s = "long wait: " + thread_label(w.thread) + " blocked " + std::to_string(w.waited_ms) + " ms on " +
                  (p.condition ? "condition variable " : "") + w.waits_for;
  for (std::size_t i = 1; i < p.threads.size(); ++i) {
    s += ", held by " + thread_label(p.threads[i].thread);
    if (p.threads[i].exited) {
      s += " (exited)";
    } else {
      s += p.threads[i].waits_for.empty() ? " (running)" : ", which waits for " + p.threads[i].waits_for;
    }
  }
  if (!p.when.empty()) s += " (" + p.when + ")";
  return s;
}

// "all threads blocked: T0 (main) waits on condition variable cv, T1 waits for a (held by T2), ...;
// nothing can wake them".
std::string all_blocked_summary(const problem& p) {
  std::string s = "all threads blocked: ";
  for (std::size_t i = 0; i < p.waits.size() && i < p.threads.size(); ++i) {
    const thread_state& t = p.threads[i];
    s += (i == 0 ? "" : ", ") + thread_label(t.thread);
    s += p.waits[i].condition ? " waits on condition variable " + t.waits_for : " waits for " + t.waits_for;
    for (const thread_state& h : p.threads) {
      if (&h == &t) continue;
      const bool holds = std::any_of(h.holds.begin(), h.holds.end(), [&](const held_lock& l) { return l.lock == t.waits_for; });
      if (holds) {
        s += " (held by " + thread_label(h.thread) + (h.exited ? ", exited)" : ")");
        break;
      }
    }
  }
  return s + "; nothing can wake them";
}

// "assertion failed: assert_held() on mu at f.cpp:12 in thread T1, but it holds it shared only".
std::string assertion_summary(const problem& p) {
  std::string fact = "it does not hold it";
  if (p.held_as == problem::holding::shared) {
    fact = p.assertion == "assert_held()" ? "it holds it shared only" : "it holds it (shared)";
  } else if (p.held_as == problem::holding::exclusive) {
    fact = "it holds it (exclusive)";
  }
  return "assertion failed: " + p.assertion + " on " + p.locks.front() + " at " + p.when + " in " +
         thread_phrase(p.thread) + ", but " + fact;
}

}  // namespace

report build_report(const problem& p) {
  report r;
  r.kind = p.kind;
  r.edges = p.edges;
  r.threads = p.threads;
  r.thread = p.thread;
  r.held = p.held;
  r.stack = p.stack;
  switch (p.kind) {
    case report_kind::lock_order_inversion:
      r.locks = p.locks;
      r.declared = p.declared;
      r.declaration = p.declaration;
      r.summary = p.declared && p.locks.size() == 2 ? declared_summary(p) : inversion_summary(p);
      break;
    case report_kind::deadlock:
      for (const auto& t : p.threads) r.locks.push_back(t.waits_for);
      r.summary = deadlock_summary(p);
      break;
    case report_kind::self_deadlock:
      r.locks = p.locks;
      r.summary = self_deadlock_summary(p);
      break;
    case report_kind::bad_unlock:
      r.locks = p.locks;
      r.summary = bad_unlock_summary(p);
      break;
    case report_kind::unreleased_lock:
      r.locks = held_labels(p);
      r.summary = "unreleased lock: " + join(r.locks) + " still held by " + thread_phrase(p.threads.front().thread) +
                  " " + p.when;
      break;
    case report_kind::long_wait:
      for (const auto& t : p.threads) {
        if (!t.waits_for.empty()) r.locks.push_back(t.waits_for);
      }
      r.summary = long_wait_summary(p);
      break;
    case report_kind::assertion_failed:
      r.locks = p.locks;
      r.summary = assertion_summary(p);
      break;
    case report_kind::all_threads_blocked:
      for (const auto& t : p.threads) {
        if (!t.waits_for.empty()) r.locks.push_back(t.waits_for);
      }
      r.summary = all_blocked_summary(p);
      break;
  }
  return r;
}

std::string dedupe_key(const problem& p) {
  switch (p.kind) {
    case report_kind::lock_order_inversion: {
      // A declared-order violation is one per pair of classes (locks are named by class).
      if (p.declared && p.locks.size() == 2) {
        return (p.declaration.empty() ? "undeclared " : "declared ") + p.locks[0] + " > " + p.locks[1];
      }
      // The same cycle closed again from another edge (or by another thread) is the same problem.
      std::vector<std::string> parts;
      for (const edge_id& e : p.edge_ids) {
        parts.push_back(std::to_string(e.from) + (e.from_shared ? "s" : "x") + ">" + std::to_string(e.to) +
                        (e.to_shared ? "s" : "x"));
      }
      return "inversion" + sorted_parts(std::move(parts));
    }
    case report_kind::deadlock: {
      std::vector<std::string> parts;
      for (const auto& t : p.threads) parts.push_back(std::to_string(t.thread.id) + ">" + t.waits_for);
      return "deadlock" + sorted_parts(std::move(parts));
    }
    // The same misuse from the same place (innermost frame outside lockgraph) is one problem.
    case report_kind::self_deadlock:
      return "self_deadlock " + p.locks.front() + " " + innermost_site(p.stack);
    case report_kind::bad_unlock:
      return "bad_unlock " + p.locks.front() + (p.shared ? " s " : " x ") + innermost_site(p.stack);
    case report_kind::unreleased_lock: {
      std::vector<std::string> sorted = held_labels(p);
      std::sort(sorted.begin(), sorted.end());
      return "unreleased " + p.when + " " + join(sorted);
    }
    case report_kind::long_wait:
      // Once per wait: the thread and its wait sequence number.
      return "long_wait " + std::to_string(p.threads.front().thread.id) + " " + std::to_string(p.wait_seq);
    // The same assertion on the same lock at the same line is one problem.
    case report_kind::assertion_failed:
      return "assertion_failed " + p.locks.front() + " " + p.assertion + " " + p.when;
    case report_kind::all_threads_blocked: {
      // Once per state: the same threads in the same waits.
      std::vector<std::string> parts;
      for (std::size_t i = 0; i < p.waits.size() && i < p.threads.size(); ++i) {
        parts.push_back(std::to_string(p.threads[i].thread.id) + ":" + std::to_string(p.waits[i].seq));
      }
      return "all_threads_blocked" + sorted_parts(std::move(parts));
    }
  }
  return "unknown";
}

}  // namespace lockgraph::detail
