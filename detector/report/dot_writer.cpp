// detector/report/dot_writer.cpp: DOT helpers and to_dot(), the diagram written next to each JSON report.
//
// Styling shared by every kind: locks are boxes ("l0", "l1", ... in order of first appearance),
// threads are ellipses ("t<id>"), an edge thread -> lock means "waits for" and lock -> thread means
// "held by", and whatever forms the problem (the cycle, the self-wait) is red with penwidth=2.
#include "report/dot_writer.hpp"

#include "base/labels.hpp"
#include "base/stack_trace.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lockgraph/report.hpp"

namespace lockgraph {
namespace detail {

std::size_t utf8_sequence_length(std::string_view s) noexcept {
  if (s.empty()) return 0;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  // The valid range of the second byte depends on the lead byte: this is what rules out overlong
  // forms (E0, F0), UTF-16 surrogates (ED) and code points past U+10FFFF (F4), per Unicode table 3-7.
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

std::string dot_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const std::size_t length = utf8_sequence_length(s);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD; dot would otherwise warn and guess latin1
      s.remove_prefix(1);
      continue;
    }
    const char c = s.front();
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (length > 1 || (c >= 0x20 && c != 0x7F)) {
      out.append(s.data(), length);
    } else {
      // Another control character: shown, not dropped, as the text report shows it (an escaped
      // backslash, then xHH).
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\\\x";
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    }
    s.remove_prefix(length);
  }
  return out;
}

dot_builder::dot_builder(std::string_view title) {
  out_ = "digraph lockgraph {\n  graph [rankdir=LR, labelloc=t, fontname=\"Helvetica\", label=\"";
  out_ += dot_escape(title);
  out_ +=
      "\"];\n"
      "  node [fontname=\"Helvetica\"];\n"
      "  edge [fontname=\"Helvetica\"];\n";
}

void dot_builder::add_node(std::string_view id, std::string_view label, std::string_view attrs) {
  out_ += "  ";
  out_ += id;
  append_attrs(label, attrs);
}

void dot_builder::add_edge(std::string_view from, std::string_view to, std::string_view label,
                           std::string_view attrs) {
  out_ += "  ";
  out_ += from;
  out_ += " -> ";
  out_ += to;
  append_attrs(label, attrs);
}

std::string_view truncate_label(std::string_view label) noexcept {
  if (label.size() <= kMaxDotLabel) return label;
  std::size_t keep = 0;
  while (keep < kMaxDotLabel) {
    const std::size_t length = utf8_sequence_length(label.substr(keep));
    const std::size_t step = length == 0 ? 1 : length;
    if (keep + step > kMaxDotLabel) break;
    keep += step;
  }
  return label.substr(0, keep);
}

void dot_builder::append_attrs(std::string_view label, std::string_view attrs) {
  out_ += " [label=\"";
  const std::string_view shown = truncate_label(label);
  out_ += dot_escape(shown);
  if (shown.size() < label.size()) out_ += "\xE2\x80\xA6 (" + std::to_string(label.size()) + " bytes)";
  out_ += '"';
  if (!attrs.empty()) {
    out_ += ", ";
    out_ += attrs;
  }
  out_ += "];\n";
}

std::string dot_builder::finish() && {
  out_ += "}\n";
  return std::move(out_);
}

}  // namespace detail

namespace {

using detail::dot_builder;
using detail::thread_label;

constexpr std::string_view kCycleEdge = "color=red, penwidth=2";
constexpr std::string_view kDeclaredEdge = "color=blue, style=dashed";
constexpr std::string_view kLockNode = "shape=box";

std::string held_by_label(bool shared) { return shared ? "held by (shared)" : "held by"; }
std::string waits_for_label(bool shared) { return shared ? "waits for (shared)" : "waits for"; }

// Whether `holds` has `lock` in shared mode; false when it is absent.
bool held_shared(const std::vector<held_lock>& holds, std::string_view lock) {
  for (const held_lock& h : holds) {
    if (h.lock == lock) return h.shared;
  }
  return false;
}

// Hands out node ids and declares each lock or thread node the first time it is named, so every kind
// below can just ask for "the node of this lock" without tracking what is already in the graph.
// Lookups are linear: a report names a handful of locks and threads.
class node_table {
 public:
  explicit node_table(dot_builder& dot) : dot_(dot) {}

  std::string lock(std::string_view label, std::string_view attrs = kLockNode) {
    for (std::size_t i = 0; i < locks_.size(); ++i) {
      if (locks_[i] == label) return "l" + std::to_string(i);
    }
    std::string id = "l" + std::to_string(locks_.size());
    locks_.emplace_back(label);
    dot_.add_node(id, label, attrs);
    return id;
  }

  std::string thread(const thread_ref& t, std::string_view attrs = "shape=ellipse") {
    std::string id = "t" + std::to_string(t.id);
    for (std::uint64_t known : threads_) {
      if (known == t.id) return id;
    }
    threads_.push_back(t.id);
    dot_.add_node(id, thread_label(t), attrs);
    return id;
  }

 private:
  dot_builder& dot_;
  std::vector<std::string> locks_;
  std::vector<std::uint64_t> threads_;
};

// "held by" edges into `thread_id` for each of `holds` except `skip` (drawn by the caller, in red).
void add_holds(node_table& nodes, dot_builder& dot, const std::string& thread_id,
               const std::vector<held_lock>& holds, std::string_view skip = {}) {
  for (const held_lock& h : holds) {
    if (h.lock == skip) continue;
    const std::string lock_id = nodes.lock(h.lock);
    dot.add_edge(lock_id, thread_id, held_by_label(h.shared));
  }
}

void add_lock_order_inversion(const report& r, dot_builder& dot, node_table& nodes) {
  for (const std::string& lock : r.locks) nodes.lock(lock);
  for (const lock_edge& e : r.edges) {
    // Separate statements: the order in which nodes get declared must not depend on the compiler.
    const std::string from_id = nodes.lock(e.from);
    const std::string to_id = nodes.lock(e.to);
    std::string label = thread_label(e.thread) + (e.to_shared ? "\nshared" : "\nexclusive");
    // Where the edge was first seen, so the diagram alone points at the code.
    if (const std::string site = e.stack.empty() ? std::string() : detail::innermost_site(e.stack); !site.empty()) {
      label += "\n" + site;
    }
    dot.add_edge(from_id, to_id, label, kCycleEdge);
  }
  // Against a declared order: the declared direction, dashed, labelled by its rules.
  if (r.declared && r.locks.size() == 2 && !r.declaration.empty()) {
    const std::string held_id = nodes.lock(r.locks.front());
    const std::string taken_id = nodes.lock(r.locks.back());
    std::string label = "declared";
    for (const std::string& rule : r.declaration) label += "\n" + rule;
    dot.add_edge(taken_id, held_id, label, kDeclaredEdge);
  }
}

// threads[i] waits for locks[i], which threads[(i + 1) % n] holds.
void add_deadlock(const report& r, dot_builder& dot, node_table& nodes) {
  const std::size_t n = std::min(r.threads.size(), r.locks.size());
  for (std::size_t i = 0; i < n; ++i) {
    nodes.thread(r.threads[i].thread);
    nodes.lock(r.locks[i]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const thread_state& waiter = r.threads[i];
    const thread_state& holder = r.threads[(i + 1) % n];
    const std::string lock_id = nodes.lock(r.locks[i]);
    const std::string waiter_id = nodes.thread(waiter.thread);
    const std::string holder_id = nodes.thread(holder.thread);
    dot.add_edge(waiter_id, lock_id, waits_for_label(waiter.waits_shared), kCycleEdge);
    dot.add_edge(lock_id, holder_id, held_by_label(held_shared(holder.holds, r.locks[i])), kCycleEdge);
  }
  for (std::size_t i = 0; i < n; ++i) {
    add_holds(nodes, dot, nodes.thread(r.threads[i].thread), r.threads[i].holds, r.locks[(i + n - 1) % n]);
  }
}

void add_self_deadlock(const report& r, dot_builder& dot, node_table& nodes) {
  const std::string thread_id = nodes.thread(r.thread);
  if (r.locks.empty()) return;
  const std::string lock_id = nodes.lock(r.locks[0]);
  dot.add_edge(lock_id, thread_id, held_by_label(held_shared(r.held, r.locks[0])), kCycleEdge);
  dot.add_edge(thread_id, lock_id, "waits for", kCycleEdge);
  add_holds(nodes, dot, thread_id, r.held, r.locks[0]);
}

void add_unreleased_lock(const report& r, dot_builder& dot, node_table& nodes) {
  const thread_ref& holder = r.threads.empty() ? r.thread : r.threads[0].thread;
  const std::vector<held_lock>& holds = r.threads.empty() ? r.held : r.threads[0].holds;
  const std::string thread_id = nodes.thread(holder);
  for (const std::string& lock : r.locks) {
    const std::string lock_id = nodes.lock(lock, "shape=box, style=filled, fillcolor=orange");
    dot.add_edge(lock_id, thread_id, held_by_label(held_shared(holds, lock)));
  }
}

void add_bad_unlock(const report& r, dot_builder& dot, node_table& nodes) {
  const std::string thread_id = nodes.thread(r.thread);
  if (!r.locks.empty()) {
    const std::string lock_id = nodes.lock(r.locks[0], "shape=box, style=dashed, color=red");
    dot.add_edge(thread_id, lock_id, "unlocks (not held)", "color=red, penwidth=2, style=dashed");
  }
  add_holds(nodes, dot, thread_id, r.held);
}

// The asserting thread, what it holds, and a dashed edge to the lock the assertion was about.
void add_assertion_failed(const report& r, dot_builder& dot, node_table& nodes) {
  const std::string thread_id = nodes.thread(r.thread);
  add_holds(nodes, dot, thread_id, r.held);
  if (!r.locks.empty()) {
    const std::string lock_id = nodes.lock(r.locks[0], "shape=box, style=dashed, color=red");
    dot.add_edge(thread_id, lock_id, "assertion failed", "color=red, penwidth=2, style=dashed");
  }
}

// threads[0] is the long waiter (drawn in bold); the threads after it hold what it waits for.
void add_long_wait(const report& r, dot_builder& dot, node_table& nodes) {
  for (const std::string& lock : r.locks) nodes.lock(lock);
  for (std::size_t i = 0; i < r.threads.size(); ++i) {
    const thread_state& ts = r.threads[i];
    const std::string thread_id = nodes.thread(ts.thread);
    if (!ts.waits_for.empty()) {
      const std::string lock_id = nodes.lock(ts.waits_for);
      const std::string label =
          waits_for_label(ts.waits_shared) + "\n" + std::to_string(ts.waited_ms) + " ms";
      dot.add_edge(thread_id, lock_id, label, i == 0 ? "color=orange, penwidth=2" : "color=orange");
    }
    add_holds(nodes, dot, thread_id, ts.holds);
  }
}

// Every thread (exited ones dashed) with what it waits on (red: nothing will ever come) and holds.
void add_all_threads_blocked(const report& r, dot_builder& dot, node_table& nodes) {
  for (const thread_state& ts : r.threads) {
    const std::string thread_id = ts.exited ? nodes.thread(ts.thread, "shape=ellipse, style=dashed") : nodes.thread(ts.thread);
    if (!ts.waits_for.empty()) {
      const std::string lock_id = nodes.lock(ts.waits_for);
      dot.add_edge(thread_id, lock_id, waits_for_label(ts.waits_shared) + "\n" + std::to_string(ts.waited_ms) + " ms",
                   kCycleEdge);
    }
    add_holds(nodes, dot, thread_id, ts.holds);
  }
}

std::string_view graph_title(report_kind kind) {
  switch (kind) {
    case report_kind::lock_order_inversion: return "lockgraph: lock-order-inversion (potential deadlock)";
    case report_kind::deadlock: return "lockgraph: deadlock (threads blocked in a circular wait)";
    case report_kind::self_deadlock: return "lockgraph: self-deadlock";
    case report_kind::unreleased_lock: return "lockgraph: unreleased lock";
    case report_kind::bad_unlock: return "lockgraph: bad unlock";
    case report_kind::long_wait: return "lockgraph: long wait";
    case report_kind::assertion_failed: return "lockgraph: assertion failed";
    case report_kind::all_threads_blocked: return "lockgraph: all threads blocked (nothing can wake them)";
  }
  return "lockgraph: report";
}

}  // namespace

std::string to_dot(const report& r) {
  dot_builder dot(graph_title(r.kind));
  node_table nodes(dot);
  switch (r.kind) {
    case report_kind::lock_order_inversion: add_lock_order_inversion(r, dot, nodes); break;
    case report_kind::deadlock: add_deadlock(r, dot, nodes); break;
    case report_kind::self_deadlock: add_self_deadlock(r, dot, nodes); break;
    case report_kind::unreleased_lock: add_unreleased_lock(r, dot, nodes); break;
    case report_kind::bad_unlock: add_bad_unlock(r, dot, nodes); break;
    case report_kind::long_wait: add_long_wait(r, dot, nodes); break;
    case report_kind::assertion_failed: add_assertion_failed(r, dot, nodes); break;
    case report_kind::all_threads_blocked: add_all_threads_blocked(r, dot, nodes); break;
  }
  return std::move(dot).finish();
}

}  // namespace lockgraph
