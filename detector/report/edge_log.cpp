// edge_log.cpp: see edge_log.hpp. The reader understands exactly the JSON the format uses (one flat
// object per line whose values are strings, unsigned integers, booleans, null or arrays of strings)
// and says which line is wrong otherwise; it is not a general JSON parser.
#include "report/edge_log.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <system_error>
#include <utility>

namespace lockgraph::detail {
namespace {

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_key(std::string& out, std::string_view key, bool first = false) {
  if (!first) out += ", ";
  append_string(out, key);
  out += ": ";
}

// One parsed value; only the kinds the format uses.
struct value {
  enum class type { string, number, boolean, null, strings } t = type::null;
  std::string s;
  std::uint64_t n = 0;
  bool b = false;
  std::vector<std::string> list;
};

class line_parser {
 public:
  explicit line_parser(std::string_view text) : p_(text) {}

  // Calls f(key, value) for each member of the object that is the whole line; returns the error.
  template <class F>
  std::string object(F&& f) {
    skip_ws();
    if (!eat('{')) return "expected '{' (one JSON object per line)";
    skip_ws();
    if (eat('}')) return end();
    while (true) {
      std::string key;
      skip_ws();
      if (std::string e = string(key); !e.empty()) return e;
      skip_ws();
      if (!eat(':')) return "expected ':' after \"" + key + "\"";
      skip_ws();
      value v;
      if (std::string e = parse_value(v); !e.empty()) return e + " (value of \"" + key + "\")";
      if (std::string e = f(key, v); !e.empty()) return e;
      skip_ws();
      if (eat(',')) continue;
      if (eat('}')) return end();
      return "expected ',' or '}'";
    }
  }

 private:
  std::string end() {
    skip_ws();
    return at_ == p_.size() ? std::string() : "text after the object";
  }
  void skip_ws() {
    while (at_ < p_.size() && (p_[at_] == ' ' || p_[at_] == '\t' || p_[at_] == '\r')) ++at_;
  }
  bool eat(char c) {
    if (at_ < p_.size() && p_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool eat_word(std::string_view w) {
    if (p_.substr(at_, w.size()) != w) return false;
    at_ += w.size();
    return true;
  }

  std::string string(std::string& out) {
    if (!eat('"')) return "expected a string";
    while (at_ < p_.size()) {
      const char c = p_[at_++];
      if (c == '"') return {};
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= p_.size()) break;
      const char e = p_[at_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          unsigned code = 0;
          if (at_ + 4 > p_.size()) return "bad \\u escape";
          const auto r = std::from_chars(p_.data() + at_, p_.data() + at_ + 4, code, 16);
          if (r.ec != std::errc() || r.ptr != p_.data() + at_ + 4) return "bad \\u escape";
          at_ += 4;
          // UTF-8 for the BMP; the writer only escapes control characters, so this is all it needs.
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default: return std::string("bad escape '\\") + e + "'";
      }
    }
    return "unterminated string";
  }

  std::string parse_value(value& v) {
    if (at_ >= p_.size()) return "missing value";
    const char c = p_[at_];
    if (c == '"') {
      v.t = value::type::string;
      return string(v.s);
    }
    if (c == '[') {
      ++at_;
      v.t = value::type::strings;
      skip_ws();
      if (eat(']')) return {};
      while (true) {
        skip_ws();
        std::string s;
        if (std::string e = string(s); !e.empty()) return e + " in an array (arrays hold strings)";
        v.list.push_back(std::move(s));
        skip_ws();
        if (eat(',')) continue;
        if (eat(']')) return {};
        return "expected ',' or ']'";
      }
    }
    if (eat_word("true")) {
      v.t = value::type::boolean;
      v.b = true;
      return {};
    }
    if (eat_word("false")) {
      v.t = value::type::boolean;
      return {};
    }
    if (eat_word("null")) return {};
    const auto r = std::from_chars(p_.data() + at_, p_.data() + p_.size(), v.n);
    if (r.ec != std::errc() || r.ptr == p_.data() + at_) return "expected a string, number, boolean or array";
    at_ = static_cast<std::size_t>(r.ptr - p_.data());
    v.t = value::type::number;
    return {};
  }

  std::string_view p_;
  std::size_t at_ = 0;
};

std::string expect(const std::string& key, const value& v, value::type t) {
  if (v.t == t) return {};
  static constexpr const char* kNames[] = {"a string", "a number", "a boolean", "null", "an array of strings"};
  return "\"" + key + "\" must be " + kNames[static_cast<int>(t)];
}

std::string parse_header(std::string_view line, edge_log& out) {
  bool have_version = false;
  line_parser p(line);
  std::string e = p.object([&](const std::string& key, const value& v) -> std::string {
    if (key == "lockgraph_edge_log") {
      if (std::string err = expect(key, v, value::type::number); !err.empty()) return err;
      if (v.n != static_cast<std::uint64_t>(kEdgeLogVersion)) {
        return "edge log version " + std::to_string(v.n) + " is not supported (accepted: " +
               std::to_string(kEdgeLogVersion) + ")";
      }
      have_version = true;
    } else if (key == "pid") {
      if (std::string err = expect(key, v, value::type::number); !err.empty()) return err;
      out.pid = static_cast<long>(v.n);
    } else if (key == "command") {
      if (std::string err = expect(key, v, value::type::string); !err.empty()) return err;
      out.command = v.s;
    } else if (key == "truncated") {
      if (std::string err = expect(key, v, value::type::boolean); !err.empty()) return err;
      out.truncated = v.b;
    } else if (key == "dropped") {
      if (std::string err = expect(key, v, value::type::number); !err.empty()) return err;
      out.dropped = static_cast<std::size_t>(v.n);
    }
    return {};
  });
  if (!e.empty()) return e;
  if (!have_version) return "not an edge log: the first line has no \"lockgraph_edge_log\" version";
  return {};
}

std::string parse_edge(std::string_view line, logged_edge& out) {
  bool have_from = false;
  bool have_to = false;
  line_parser p(line);
  std::string e = p.object([&](const std::string& key, value& v) -> std::string {
    std::string* text = nullptr;
    bool* flag = nullptr;
    if (key == "from") {
      text = &out.from;
      have_from = true;
    } else if (key == "to") {
      text = &out.to;
      have_to = true;
    } else if (key == "test") {
      text = &out.test;
    } else if (key == "thread_name") {
      text = &out.thread_name;
    } else if (key == "site") {
      text = &out.site;
    } else if (key == "from_shared") {
      flag = &out.from_shared;
    } else if (key == "to_shared") {
      flag = &out.to_shared;
    } else if (key == "thread") {
      if (std::string err = expect(key, v, value::type::number); !err.empty()) return err;
      out.thread = v.n;
    } else if (key == "stack") {
      if (std::string err = expect(key, v, value::type::strings); !err.empty()) return err;
      out.stack = std::move(v.list);
    }
    if (text != nullptr) {
      if (std::string err = expect(key, v, value::type::string); !err.empty()) return err;
      *text = std::move(v.s);
    } else if (flag != nullptr) {
      if (std::string err = expect(key, v, value::type::boolean); !err.empty()) return err;
      *flag = v.b;
    }
    return {};
  });
  if (!e.empty()) return e;
  if (!have_from || !have_to) return "an edge needs \"from\" and \"to\"";
  return {};
}

}  // namespace

std::string format_edge_log(const edge_log& log, std::size_t max_edges) {
  const std::size_t n = std::min({log.edges.size(), max_edges, kMaxLoggedEdges});
  const std::size_t dropped = log.dropped + (log.edges.size() - n);
  std::string out;
  out += '{';
  append_key(out, "lockgraph_edge_log", true);
  out += std::to_string(kEdgeLogVersion);
  append_key(out, "pid");
  out += std::to_string(log.pid);
  append_key(out, "command");
  append_string(out, log.command);
  append_key(out, "edges");
  out += std::to_string(n);
  append_key(out, "truncated");
  out += log.truncated || dropped > 0 ? "true" : "false";
  append_key(out, "dropped");
  out += std::to_string(dropped);
  out += "}\n";
  for (std::size_t i = 0; i < n; ++i) {
    const logged_edge& e = log.edges[i];
    out += '{';
    append_key(out, "from", true);
    append_string(out, e.from);
    append_key(out, "to");
    append_string(out, e.to);
    append_key(out, "from_shared");
    out += e.from_shared ? "true" : "false";
    append_key(out, "to_shared");
    out += e.to_shared ? "true" : "false";
    append_key(out, "test");
    append_string(out, e.test);
    append_key(out, "thread");
    out += std::to_string(e.thread);
    append_key(out, "thread_name");
    append_string(out, e.thread_name);
    append_key(out, "site");
    append_string(out, e.site);
    append_key(out, "stack");
    out += '[';
    for (std::size_t f = 0; f < e.stack.size(); ++f) {
      if (f != 0) out += ", ";
      append_string(out, e.stack[f]);
    }
    out += "]}\n";
  }
  return out;
}

std::string parse_edge_log(std::string_view text, edge_log& out) {
  out = edge_log{};
  std::size_t line_no = 0;
  std::size_t at = 0;
  bool header = false;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank lines are allowed
    std::string error;
    if (!header) {
      error = parse_header(line, out);
      header = error.empty();
    } else {
      logged_edge e;
      error = parse_edge(line, e);
      if (error.empty()) out.edges.push_back(std::move(e));
    }
    if (!error.empty()) return std::to_string(line_no) + ": " + error;
  }
  if (!header) return "1: empty file (an edge log starts with a {\"lockgraph_edge_log\": 1, ...} line)";
  return {};
}

}  // namespace lockgraph::detail
