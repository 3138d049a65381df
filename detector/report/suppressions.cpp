// suppressions.cpp: see suppressions.hpp.
#include "report/suppressions.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/glob.hpp"
#include "base/read_file.hpp"
#include "base/stack_trace.hpp"
#include "report/fingerprint.hpp"

namespace lockgraph::detail {
namespace {

constexpr report_kind kKinds[] = {
    report_kind::lock_order_inversion, report_kind::deadlock,         report_kind::self_deadlock,
    report_kind::unreleased_lock,      report_kind::bad_unlock,       report_kind::long_wait,
    report_kind::assertion_failed,     report_kind::all_threads_blocked,
};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string accepted() {
  std::string kinds;
  for (report_kind k : kKinds) kinds += std::string(to_string(k)) + ", ";
  return "accepted: <kind>:<glob> with <kind> one of " + kinds +
         "or *, and a glob of * ? [..]; '#' comment lines and blank lines";
}

// Every stack a report carries.
template <class F>
void for_each_stack(const report& r, F&& f) {
  f(r.stack);
  for (const held_lock& h : r.held) f(h.stack);
  for (const lock_edge& e : r.edges) f(e.stack);
  for (const thread_state& t : r.threads) {
    f(t.stack);
    for (const held_lock& h : t.holds) f(h.stack);
  }
}

// Every lock label a report names.
template <class F>
void for_each_label(const report& r, F&& f) {
  for (const auto& l : r.locks) f(l);
  for (const held_lock& h : r.held) f(h.lock);
  for (const lock_edge& e : r.edges) {
    f(e.from);
    f(e.to);
  }
  for (const thread_state& t : r.threads) {
    if (!t.waits_for.empty()) f(t.waits_for);
    for (const held_lock& h : t.holds) f(h.lock);
  }
}

bool matches_any(const std::string& glob, const std::vector<std::string>& texts) {
  for (const auto& t : texts) {
    if (glob_match(glob, t)) return true;
  }
  return false;
}

}  // namespace

std::string function_without_parameters(std::string_view f) {
  // Drop trailing qualifiers (" const", " &", " volatile", " noexcept") after the parameter list.
  std::size_t end = f.size();
  while (end > 0 && f[end - 1] != ')') {
    const char c = f[end - 1];
    if (c == '(' || c == '>' || c == ':') return std::string(f);  // no parameter list at the end
    --end;
  }
  if (end == 0) return std::string(f);
  // The '(' matching the last ')'.
  int depth = 0;
  for (std::size_t i = end; i-- > 0;) {
    if (f[i] == ')') ++depth;
    if (f[i] == '(' && --depth == 0) return std::string(trimmed(f.substr(0, i)));
  }
  return std::string(f);
}

std::string unqualified(std::string_view f) {
  int depth = 0;
  for (std::size_t i = f.size(); i-- > 1;) {
    const char c = f[i];
    if (c == '>' || c == ')' || c == '}') ++depth;
    if (c == '<' || c == '(' || c == '{') --depth;
    if (depth == 0 && c == ':' && f[i - 1] == ':') return std::string(f.substr(i + 1));
  }
  return std::string(f);
}

std::string suppressions::add(std::string_view text, std::string_view origin) {
  std::vector<suppression_rule> added;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = trimmed(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = std::string(origin) + ":" + std::to_string(line_no);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return where + ": bad suppression rule '" + std::string(line) + "': no ':' (" + accepted() + ")";
    }
    suppression_rule rule;
    rule.text = std::string(line);
    rule.origin = where;
    const std::string_view kind = trimmed(line.substr(0, colon));
    rule.glob = std::string(trimmed(line.substr(colon + 1)));
    if (kind == "*") {
      rule.any_kind = true;
    } else {
      bool known = false;
      for (report_kind k : kKinds) {
        if (kind == to_string(k)) {
          rule.kind = k;
          known = true;
        }
      }
      if (!known) {
        return where + ": bad suppression rule '" + rule.text + "': unknown kind '" + std::string(kind) + "' (" +
               accepted() + ")";
      }
    }
    if (rule.glob.empty()) {
      return where + ": bad suppression rule '" + rule.text + "': empty pattern (" + accepted() + ")";
    }
    added.push_back(std::move(rule));
  }
  for (auto& r : added) rules_.push_back(std::move(r));
  return {};
}

std::string suppressions::add_file(const std::string& path) {
  std::string text;
  if (const int err = read_whole_file(path, &text); err != 0) {
    return "suppressions=" + path + ": cannot read the file (" + std::strerror(err) +
           "; accepted: a readable file of <kind>:<glob> rules)";
  }
  return add(text, path);
}

int suppressions::match(const report& r) const {
  std::vector<std::string> names;
  bool names_made = false;
  std::vector<std::string> frames;
  bool frames_made = false;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const suppression_rule& rule = rules_[i];
    if (!rule.any_kind && rule.kind != r.kind) continue;
    if (!names_made) {
      names_made = true;
      if (!r.fingerprint.empty()) names.push_back(r.fingerprint);
      for_each_label(r, [&](const std::string& l) {
        names.push_back(l);
        std::string key = class_key(l);
        if (key != l) names.push_back(std::move(key));
      });
    }
    if (matches_any(rule.glob, names)) return static_cast<int>(i);
    if (!frames_made) {
      frames_made = true;
      for_each_stack(r, [&](const stack_trace& st) {
        if (st.empty()) return;
        for (const frame_info& f : user_frames(st)) {
          if (!f.function.empty()) {
            frames.push_back(f.function);
            std::string bare = function_without_parameters(f.function);
            std::string last = unqualified(bare);
            if (last != bare) frames.push_back(std::move(last));
            if (bare != f.function) frames.push_back(std::move(bare));
          }
          if (!f.file.empty()) {
            frames.push_back(f.file);
            const std::size_t slash = f.file.find_last_of('/');
            if (slash != std::string::npos) frames.push_back(f.file.substr(slash + 1));
          }
        }
      });
    }
    if (matches_any(rule.glob, frames)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace lockgraph::detail
