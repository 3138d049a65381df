// detector/report/text_report.cpp: to_text(), the report as printed on stderr.
//
// The layout borrows ThreadSanitizer's title and "Cycle in lock order graph" line and Linux lockdep's
// "Possible unsafe locking scenario". Every text starts and ends with a ruler line, like TSan's, so
// reports stand out in interleaved logs. Conventions shared by all kinds:
//  - Threads are "T<id>", followed by " (name)" when named. The main thread is "T0" like any other
//    (no "main thread" spelling): the same token then names a thread in the text, in the scenario
//    columns, in the JSON ids and in the DOT labels.
//  - An empty stack prints as "<no stack>", so every "... at:" line is followed by something; a held
//    lock whose acquisition stack is unknown prints without "acquired at:".
//  - Cycles longer than kMaxShown edges or threads print the first kMaxShown and count the rest.
//  - Names (lock labels, thread names) are escaped C-style, so that nothing in a name reaches the
//    terminal raw: `\n`, `\t`, `\r`, `\\`, and `\xHH` for every other control character (C0, DEL,
//    the C1 range of UTF-8), for an embedded NUL and for each ill-formed UTF-8 byte. Well-formed UTF-8
//    passes through.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lockgraph/report.hpp"
#include "report/dot_writer.hpp"  // utf8_sequence_length()

namespace lockgraph {
namespace {

void append_hex_byte(std::string& out, unsigned char c) {
  constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

// `s` as it may reach a terminal (see the top of this file).
std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const std::size_t length = detail::utf8_sequence_length(s);
    const auto c = static_cast<unsigned char>(s.front());
    if (length == 0) {
      append_hex_byte(out, c);
      s.remove_prefix(1);
      continue;
    }
    if (length == 1) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case '\\': out += "\\\\"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            append_hex_byte(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
    } else if (c == 0xC2 && static_cast<unsigned char>(s[1]) < 0xA0) {  // U+0080..U+009F: C1 controls
      append_hex_byte(out, c);
      append_hex_byte(out, static_cast<unsigned char>(s[1]));
    } else {
      out.append(s.data(), length);
    }
    s.remove_prefix(length);
  }
  return out;
}

constexpr std::string_view kRuler = "==================\n";
constexpr std::size_t kMaxShown = 16;
// Column of T2 in the two-thread scenario table; lockdep uses the same.
constexpr std::size_t kRightColumn = 31;
constexpr std::string_view kListScenarioHeading =
    "  Possible unsafe locking scenario (each thread takes its first lock, then blocks on its second):\n\n";

std::string thread_id(const thread_ref& t) { return "T" + std::to_string(t.id); }

std::string thread_name(const thread_ref& t) {
  return t.name.empty() ? thread_id(t) : thread_id(t) + " (" + esc(t.name) + ")";
}

std::string_view mode(bool shared) { return shared ? "shared" : "exclusive"; }
std::string_view shared_note(bool shared) { return shared ? " (shared)" : ""; }

// "... 4 more edges not shown (cycle truncated)"
std::string more(std::size_t count, std::string_view what, std::string_view truncated = "cycle") {
  return "... " + std::to_string(count) + " more " + std::string(what) + " not shown (" +
         std::string(truncated) + " truncated)";
}

void append_stack(std::string& out, const stack_trace& stack, std::string_view indent) {
  // to_string() may print nothing for a non-empty trace (it hides lockgraph's own frames).
  const std::string frames = stack.empty() ? std::string() : stack.to_string(indent);
  if (frames.empty()) {
    out += indent;
    out += "<no stack>\n";
    return;
  }
  out += frames;
  if (frames.back() != '\n') out += '\n';
}

// "  <heading>", the locks the thread holds with where each was taken, then where the thread stands
// ("<where> at:") unless `where` is empty.
void append_thread(std::string& out, std::string_view heading, const std::vector<held_lock>& holds,
                   std::string_view where, const stack_trace& stack) {
  out += "  ";
  out += heading;
  out += '\n';
  if (holds.empty()) out += "    holds no locks\n";
  for (const held_lock& h : holds) {
    out += "    holds " + esc(h.lock) + " (" + std::string(mode(h.shared));
    out += h.try_acquired ? ", try-lock)" : ")";
    // Acquisition stacks are known only where a caller captured one; say nothing rather than "none".
    if (h.stack.empty()) {
      out += '\n';
      continue;
    }
    out += ", acquired at:\n";
    append_stack(out, h.stack, "      ");
  }
  if (!where.empty()) {
    out += "    ";
    out += where;
    out += " at:\n";
    append_stack(out, stack, "      ");
  }
}

std::string lock_call(const std::string& lock, bool shared) {
  return (shared ? "lock_shared(" : "lock(") + esc(lock) + ");";
}

// `left`, then `right` starting at kRightColumn (or one space further when `left` is too long).
void append_columns(std::string& out, std::string left, std::string_view right = {}) {
  if (!right.empty()) {
    left.resize(std::max(left.size() + 1, kRightColumn), ' ');
    left += right;
  }
  out += left;
  out += '\n';
}

// Lockdep's scenario: the classic two-thread case as a two-column timeline; longer cycles as one line
// per thread, since the interleaving is the same for any length.
void append_scenario(std::string& out, const std::vector<lock_edge>& edges) {
  if (edges.size() == 2) {
    const lock_edge& a = edges[0];
    const lock_edge& b = edges[1];
    out += "  Possible unsafe locking scenario:\n\n";
    append_columns(out, "         " + thread_id(a.thread), thread_id(b.thread));
    append_columns(out, "         ----", "----");
    append_columns(out, "    " + lock_call(a.from, a.from_shared));
    append_columns(out, "", lock_call(b.from, b.from_shared));
    append_columns(out, "", lock_call(b.to, b.to_shared));
    append_columns(out, "    " + lock_call(a.to, a.to_shared));
  } else {
    out += kListScenarioHeading;
    const std::size_t shown = std::min(edges.size(), kMaxShown);
    for (std::size_t i = 0; i < shown; ++i) {
      const lock_edge& e = edges[i];
      out += "    " + thread_id(e.thread) + ": " + lock_call(e.from, e.from_shared) + " " +
             lock_call(e.to, e.to_shared) + "\n";
    }
    if (edges.size() > shown) out += "    " + more(edges.size() - shown, "threads") + "\n";
  }
  // One thread that took every order in turn, as a single-threaded test does, shows as the same name
  // in every column, which reads like a thread deadlocking with itself: say what the timeline means.
  // A suite report's edges come from several processes (lockgraph-merge): their thread numbers are
  // each process's own, so equal numbers say nothing.
  const bool one_process = std::all_of(edges.begin(), edges.end(), [&](const lock_edge& e) {
    return e.seen_in == edges.front().seen_in;
  });
  const bool one_thread = one_process && std::all_of(edges.begin(), edges.end(), [&](const lock_edge& e) {
    return e.thread.id == edges.front().thread.id;
  });
  if (!one_process) {
    out += "\n  The orders above were taken in different processes (see where each was seen): none of them\n"
           "  deadlocks alone, but a program that runs this code in two threads at once can.\n";
  } else if (one_thread && edges.size() > 1) {
    out += "\n  " + thread_id(edges.front().thread) +
           " took every order above, one after another: alone it cannot deadlock, but threads\n"
           "  running this code at the same time can.\n";
  }
  out += "\n   *** DEADLOCK ***\n";
}

// locks = {held, taken}; edges[0] is the acquisition; declaration the rules it goes against.
// "  b acquired while holding a in thread T1 (worker):" and where. An edge lockgraph-merge read from an
// edge log also says which test and process took it, and brings its stack symbolized already.
void append_edge(std::string& out, const lock_edge& e) {
  out += "  " + esc(e.to) + std::string(shared_note(e.to_shared)) + " acquired while holding " + esc(e.from) +
         std::string(shared_note(e.from_shared)) + " in thread " + thread_name(e.thread) +
         (e.seen_in.empty() ? std::string() : ", " + esc(e.seen_in)) + ":\n";
  if (e.stack.empty() && !e.frames.empty()) {
    for (const std::string& f : e.frames) out += "    " + esc(f) + "\n";
  } else {
    append_stack(out, e.stack, "    ");
  }
}

void append_declared_violation(std::string& out, const report& r) {
  const std::string held = esc(r.locks.front());
  const std::string taken = esc(r.locks.back());
  out += r.declaration.empty() ? "lockgraph: lock-order-inversion (an order the declared lock order does not allow)\n"
                               : "lockgraph: lock-order-inversion (against the declared lock order)\n";
  for (const lock_edge& e : r.edges) append_edge(out, e);
  if (r.declaration.empty()) {
    out += "\n  lock_order_strict=1: the declared lock order names " + held + " and " + taken +
           " but orders neither before the other; declare '" + held + " -> " + taken + "' to allow it\n";
    return;
  }
  out += "\n  The declared lock order takes " + taken + " before " + held + ":\n";
  for (const std::string& rule : r.declaration) out += "    " + esc(rule) + "\n";
}

// locks[i] -> locks[i + 1] was first seen as edges[i].
void append_lock_order_inversion(std::string& out, const report& r) {
  if (r.declared && r.locks.size() == 2) {
    append_declared_violation(out, r);
    return;
  }
  const bool by_class = r.scope == "class";
  if (by_class) {
    out += "lockgraph: lock-order-inversion between lock classes (potential deadlock)\n";
    out += "  Cycle in lock class graph: ";
  } else {
    out += r.scope == "suite" ? "lockgraph: lock-order-inversion across the test suite (potential deadlock)\n"
                              : "lockgraph: lock-order-inversion (potential deadlock)\n";
    out += "  Cycle in lock order graph: ";
  }
  const std::size_t shown_locks = std::min(r.locks.size(), kMaxShown);
  for (std::size_t i = 0; i < shown_locks; ++i) out += esc(r.locks[i]) + " => ";
  if (r.locks.size() > shown_locks) out += "... => ";
  if (!r.locks.empty()) out += esc(r.locks[0]);
  if (r.locks.size() > shown_locks) {
    out += " (" + std::to_string(r.locks.size() - shown_locks) + " more locks, cycle truncated)";
  }
  out += "\n";
  if (by_class) {
    out += "  (locks of these classes, not necessarily the same objects: each class is a lock's name or the\n"
           "   place that constructed it; the same code run on other objects can close the cycle)\n";
  }
  out += "\n";

  const std::size_t shown_edges = std::min(r.edges.size(), kMaxShown);
  for (std::size_t i = 0; i < shown_edges; ++i) {
    const lock_edge& e = r.edges[i];
    if (by_class) {
      out += "  a lock of class " + esc(e.to) + " acquired while holding one of class " + esc(e.from) +
             " in thread " + thread_name(e.thread) + ":\n";
      append_stack(out, e.stack, "    ");
      continue;
    }
    append_edge(out, e);
  }
  if (r.edges.size() > shown_edges) out += "  " + more(r.edges.size() - shown_edges, "edges") + "\n";
  out += '\n';
  append_scenario(out, r.edges);
}

// threads[i] waits for locks[i], which threads[(i + 1) % n] holds.
void append_deadlock(std::string& out, const report& r) {
  out += "lockgraph: deadlock (threads blocked in a circular wait)\n";
  const std::size_t n = std::min(r.threads.size(), r.locks.size());
  const std::size_t shown = std::min(n, kMaxShown);
  for (std::size_t i = 0; i < shown; ++i) {
    const thread_state& waiter = r.threads[i];
    const thread_ref& holder = r.threads[(i + 1) % n].thread;
    const std::string heading = "Thread " + thread_name(waiter.thread) + " waits for lock " + esc(r.locks[i]) +
                                " (" + std::string(mode(waiter.waits_shared)) + "), held by thread " +
                                thread_name(holder);
    append_thread(out, heading, waiter.holds, "blocked", waiter.stack);
    out += '\n';
  }
  if (n > shown) out += "  " + more(n - shown, "threads") + "\n\n";

  out += "  Cycle in wait-for graph: ";
  for (std::size_t i = 0; i < shown; ++i) {
    out += thread_id(r.threads[i].thread) + " -> " + esc(r.locks[i]) + " -> ";
  }
  if (n > shown) out += "... -> ";
  if (n != 0) out += thread_id(r.threads[0].thread);
  out += '\n';
}

void append_self_deadlock(std::string& out, const report& r) {
  const std::string lock = r.locks.empty() ? std::string() : esc(r.locks[0]);
  out += "lockgraph: self-deadlock: thread " + thread_name(r.thread) + " blocks on lock " + lock +
         " it already holds\n";
  append_thread(out, "Thread " + thread_name(r.thread) + ":", r.held, "blocked", r.stack);
}

// The holder is threads[0]; r.thread is whoever noticed (the holder at its exit, or the thread
// destroying the lock), and r.stack where it did.
void append_unreleased_lock(std::string& out, const report& r) {
  const thread_ref& holder = r.threads.empty() ? r.thread : r.threads[0].thread;
  const std::vector<held_lock>& holds = r.threads.empty() ? r.held : r.threads[0].holds;
  out += "lockgraph: unreleased lock: thread " + thread_name(holder) + " still holds ";
  out += r.locks.size() == 1 ? "lock " + esc(r.locks[0]) : std::to_string(r.locks.size()) + " locks";
  out += '\n';
  append_thread(out, "Thread " + thread_name(holder) + ":", holds, "", {});
  out += "\n  Detected in thread " + thread_name(r.thread) + " at:\n";
  append_stack(out, r.stack, "    ");
}

void append_bad_unlock(std::string& out, const report& r) {
  const std::string lock = r.locks.empty() ? std::string() : esc(r.locks[0]);
  out += "lockgraph: bad unlock: thread " + thread_name(r.thread) + " unlocks lock " + lock +
         ", which it does not hold\n";
  append_thread(out, "Thread " + thread_name(r.thread) + ":", r.held, "unlocked", r.stack);
}

void append_assertion_failed(std::string& out, const report& r) {
  out += "lockgraph: " + esc(r.summary) + "\n";
  append_thread(out, "Thread " + thread_name(r.thread) + ":", r.held, "asserted", r.stack);
}

// threads[0] is the waiter; each following thread holds what the one before it waits for.
void append_long_wait(std::string& out, const report& r) {
  const thread_state no_thread;
  const thread_state& waiter = r.threads.empty() ? no_thread : r.threads[0];
  const std::string& lock = waiter.waits_for.empty() && !r.locks.empty() ? r.locks[0] : waiter.waits_for;
  out += "lockgraph: long wait: thread " + thread_name(waiter.thread) + " has waited " +
         std::to_string(waiter.waited_ms) + " ms for " + esc(lock) + "\n";

  const std::size_t shown = std::min(r.threads.size(), kMaxShown);
  for (std::size_t i = 0; i < shown; ++i) {
    const thread_state& ts = r.threads[i];
    if (i != 0) out += '\n';
    std::string heading = "Thread " + thread_name(ts.thread);
    if (ts.exited) {
      append_thread(out, heading + " (exited) left locks held:", ts.holds, "", {});
      continue;
    }
    if (ts.waits_for.empty()) {
      append_thread(out, heading + " is not blocked on a lock:", ts.holds, "", {});
      continue;
    }
    heading += " has waited " + std::to_string(ts.waited_ms) + " ms for " + esc(ts.waits_for) + " (" +
               std::string(mode(ts.waits_shared)) + ")";
    if (i + 1 < r.threads.size()) {
      heading += ", held by thread " + thread_name(r.threads[i + 1].thread);
      if (r.threads[i + 1].exited) heading += " (exited)";
    }
    append_thread(out, heading, ts.holds, "blocked", ts.stack);
  }
  if (r.threads.size() > shown) out += "\n  " + more(r.threads.size() - shown, "threads", "chain") + "\n";
}

// The thread in `r.threads` (other than `self`) holding `lock`, or nullptr.
const thread_state* holder_of(const report& r, const thread_state& self, const std::string& lock) {
  for (const thread_state& t : r.threads) {
    if (&t == &self) continue;
    for (const held_lock& h : t.holds) {
      if (h.lock == lock) return &t;
    }
  }
  return nullptr;
}

// Every thread with its wait and holdings; exited holders of awaited locks last.
void append_all_threads_blocked(std::string& out, const report& r) {
  out += "lockgraph: all threads blocked (every thread of the process waits in lockgraph with no time-out; "
         "nothing can wake them)\n";
  const std::size_t shown = std::min(r.threads.size(), kMaxShown);
  for (std::size_t i = 0; i < shown; ++i) {
    const thread_state& ts = r.threads[i];
    std::string heading = "Thread " + thread_name(ts.thread);
    if (ts.exited) {
      append_thread(out, heading + " (exited) left locks held:", ts.holds, "", {});
    } else {
      heading += " has waited " + std::to_string(ts.waited_ms) + " ms for " + esc(ts.waits_for);
      if (const thread_state* h = holder_of(r, ts, ts.waits_for)) {
        heading += ", held by thread " + thread_name(h->thread) + (h->exited ? " (exited)" : "");
      }
      append_thread(out, heading, ts.holds, "blocked", ts.stack);
    }
    out += '\n';
  }
  if (r.threads.size() > shown) out += "  " + more(r.threads.size() - shown, "threads", "list") + "\n";
  out += "  " + esc(r.summary) + "\n";
}

}  // namespace

std::string to_text(const report& r) {
  std::string out(kRuler);
  switch (r.kind) {
    case report_kind::lock_order_inversion: append_lock_order_inversion(out, r); break;
    case report_kind::deadlock: append_deadlock(out, r); break;
    case report_kind::self_deadlock: append_self_deadlock(out, r); break;
    case report_kind::unreleased_lock: append_unreleased_lock(out, r); break;
    case report_kind::bad_unlock: append_bad_unlock(out, r); break;
    case report_kind::long_wait: append_long_wait(out, r); break;
    case report_kind::assertion_failed: append_assertion_failed(out, r); break;
    case report_kind::all_threads_blocked: append_all_threads_blocked(out, r); break;
  }
  if (!r.fingerprint.empty()) out += "\n  Fingerprint: " + r.fingerprint + '\n';
  if (!r.files.empty()) {
    out += (r.fingerprint.empty() ? "\n  Files: " : "  Files: ");
    for (std::size_t i = 0; i < r.files.size(); ++i) out += (i == 0 ? "" : ", ") + esc(r.files[i]);
    out += '\n';
  }
  out += kRuler;
  return out;
}

}  // namespace lockgraph
