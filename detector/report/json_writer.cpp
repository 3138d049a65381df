// detector/report/json_writer.cpp: to_json(), the machine-readable form of a report (one file per report).
//
// Every report field is written, whatever the kind, so consumers can rely on the keys being present.
// Stack frames are raw addresses as hex strings: symbolizing is slow and belongs to whoever reads the
// file (addr2line, or the text report printed beside it), and it keeps this a pure function.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/dot_writer.hpp"  // utf8_sequence_length()
#include "lockgraph/report.hpp"

namespace lockgraph {
namespace {

// `s` as a JSON string literal: RFC 8259 escapes, other control characters as \u00XX, well-formed
// UTF-8 passed through, and each ill-formed byte replaced by \ufffd so the file always parses.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  while (!s.empty()) {
    const std::size_t length = detail::utf8_sequence_length(s);
    if (length == 0) {
      out += "\\ufffd";
      s.remove_prefix(1);
      continue;
    }
    const auto c = static_cast<unsigned char>(s.front());
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out.append(s.data(), length);
        }
    }
    s.remove_prefix(length);
  }
  out += '"';
}

// Pretty-printing writer with 2-space indentation. Callers pair begin_*/end_* and put key() before
// each value inside an object; the writer places the commas and line breaks. Empty containers print
// as "[]" and "{}". A container opened with `one_line` keeps its items on one line; it is meant for
// small scalar groups (a thread's id and name, a stack's addresses) that would otherwise take a
// line per item.
class json_writer {
 public:
  void begin_object(bool one_line = false) { open('{', one_line); }
  void end_object() { close('}'); }
  void begin_array(bool one_line = false) { open('[', one_line); }
  void end_array() { close(']'); }

  void key(std::string_view k) {
    next_item();
    append_json_string(out_, k);
    out_ += ": ";
    after_key_ = true;
  }

  // Distinct names rather than overloads: a string literal would silently pick value(bool).
  void string(std::string_view s) {
    next_item();
    append_json_string(out_, s);
  }
  void boolean(bool b) {
    next_item();
    out_ += b ? "true" : "false";
  }
  void number(std::uint64_t n) {
    next_item();
    out_ += std::to_string(n);
  }

  std::string finish() && {
    out_ += '\n';
    return std::move(out_);
  }

 private:
  struct container {
    bool one_line;
    bool has_items = false;
  };

  void next_item() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (open_.empty()) return;
    container& c = open_.back();
    if (c.has_items) out_ += c.one_line ? ", " : ",";
    if (!c.one_line) new_line();
    c.has_items = true;
  }

  void open(char bracket, bool one_line) {
    next_item();
    out_ += bracket;
    open_.push_back({one_line});
  }

  void close(char bracket) {
    const container c = open_.back();
    open_.pop_back();
    if (c.has_items && !c.one_line) new_line();
    out_ += bracket;
  }

  void new_line() {
    out_ += '\n';
    out_.append(2 * open_.size(), ' ');
  }

  std::string out_;
  std::vector<container> open_;
  bool after_key_ = false;
};

void write_stack(json_writer& w, const stack_trace& stack) {
  w.begin_array(/*one_line=*/true);
  for (std::uintptr_t frame : stack.frames) {
    char buf[2 + 2 * sizeof(frame)] = {'0', 'x'};
    const auto result = std::to_chars(buf + 2, buf + sizeof(buf), frame, 16);
    w.string(std::string_view(buf, static_cast<std::size_t>(result.ptr - buf)));
  }
  w.end_array();
}

void write_thread(json_writer& w, const thread_ref& t) {
  w.begin_object(/*one_line=*/true);
  w.key("id");
  w.number(t.id);
  w.key("name");
  w.string(t.name);
  w.end_object();
}

void write_strings(json_writer& w, const std::vector<std::string>& strings) {
  w.begin_array();
  for (const std::string& s : strings) w.string(s);
  w.end_array();
}

void write_held(json_writer& w, const std::vector<held_lock>& held) {
  w.begin_array();
  for (const held_lock& h : held) {
    w.begin_object();
    w.key("lock");
    w.string(h.lock);
    w.key("shared");
    w.boolean(h.shared);
    w.key("try_acquired");
    w.boolean(h.try_acquired);
    w.key("stack");
    write_stack(w, h.stack);
    w.end_object();
  }
  w.end_array();
}

void write_edges(json_writer& w, const std::vector<lock_edge>& edges) {
  w.begin_array();
  for (const lock_edge& e : edges) {
    w.begin_object();
    w.key("from");
    w.string(e.from);
    w.key("to");
    w.string(e.to);
    w.key("from_shared");
    w.boolean(e.from_shared);
    w.key("to_shared");
    w.boolean(e.to_shared);
    w.key("thread");
    write_thread(w, e.thread);
    w.key("stack");
    write_stack(w, e.stack);
    w.end_object();
  }
  w.end_array();
}

void write_threads(json_writer& w, const std::vector<thread_state>& threads) {
  w.begin_array();
  for (const thread_state& ts : threads) {
    w.begin_object();
    w.key("thread");
    write_thread(w, ts.thread);
    w.key("waits_for");
    w.string(ts.waits_for);
    w.key("waits_shared");
    w.boolean(ts.waits_shared);
    w.key("waited_ms");
    w.number(ts.waited_ms);
    w.key("exited");
    w.boolean(ts.exited);
    w.key("holds");
    write_held(w, ts.holds);
    w.key("stack");
    write_stack(w, ts.stack);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

std::string to_json(const report& r) {
  json_writer w;
  w.begin_object();
  w.key("kind");
  w.string(to_string(r.kind));
  w.key("sequence");
  w.number(r.sequence);
  w.key("summary");
  w.string(r.summary);
  w.key("locks");
  write_strings(w, r.locks);
  w.key("edges");
  write_edges(w, r.edges);
  w.key("threads");
  write_threads(w, r.threads);
  w.key("thread");
  write_thread(w, r.thread);
  w.key("held");
  write_held(w, r.held);
  w.key("stack");
  write_stack(w, r.stack);
  w.key("files");
  write_strings(w, r.files);
  if (r.declared) {  // only on a declared-order violation: other reports keep their shape
    w.key("declared");
    w.boolean(true);
    w.key("declaration");
    write_strings(w, r.declaration);
  }
  w.key("fingerprint");
  w.string(r.fingerprint);
  w.key("occurrences");
  w.number(r.occurrences);
  w.end_object();
  return std::move(w).finish();
}

}  // namespace lockgraph
