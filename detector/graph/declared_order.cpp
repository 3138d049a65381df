// declared_order.cpp: parsing and checking a declared lock order (see declared_order.hpp).
#include "graph/declared_order.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <system_error>

#include "base/glob.hpp"

namespace lockgraph::detail {
namespace {

constexpr std::string_view kAccepted = "accepted: 'A -> B', 'A -> B -> C' or 'level N: GLOB...'; '#' comments";
constexpr std::string_view kSpace = " \t\r\v\f";

std::string_view trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

// "level N:" at the start of `line` (already trimmed): the rest after ':' in `rest`, N in `n`.
// Returns false when the line is not a level line at all; sets `error` when it is a malformed one.
bool parse_level(std::string_view line, unsigned& n, std::string_view& rest, std::string& error) {
  constexpr std::string_view kWord = "level";
  if (line.substr(0, kWord.size()) != kWord) return false;
  std::string_view after = line.substr(kWord.size());
  if (after.empty() || kSpace.find(after.front()) == std::string_view::npos) return false;  // "levelx -> y"
  if (after.find("->") != std::string_view::npos && after.find(':') == std::string_view::npos) return false;
  after = trim(after);
  const std::size_t colon = after.find(':');
  const std::string_view head = trim(after.substr(0, colon));
  const std::string_view number = head.substr(0, head.find_first_of(kSpace));
  if (number.size() != head.size()) {
    error = "missing ':' after 'level " + std::string(number) + "'";
    return true;
  }
  std::uint64_t parsed = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), parsed);
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() || parsed > 1'000'000'000) {
    error = "bad level '" + std::string(number) + "' (a level is an integer from 0 to 1000000000)";
    return true;
  }
  if (colon == std::string_view::npos) {
    error = "missing ':' after 'level " + std::string(number) + "'";
    return true;
  }
  n = static_cast<unsigned>(parsed);
  rest = after.substr(colon + 1);
  return true;
}

}  // namespace

struct declared_order::rules {
  struct node {
    std::string pattern;
    bool glob = false;
  };
  struct arrow {
    std::size_t from = 0;
    std::size_t to = 0;
    std::string where;  // "FILE:LINE: A -> B"
  };
  struct level {
    std::string glob;
    unsigned n = 0;
    std::string where;  // "FILE:LINE: level N: ..."
  };
  std::vector<node> nodes;
  std::unordered_map<std::string, std::size_t> node_index;
  std::vector<arrow> arrows;
  std::vector<std::vector<std::size_t>> out;  // node -> indices into arrows
  std::vector<level> levels;

  std::size_t node_of(std::string_view pattern) {
    auto [it, added] = node_index.emplace(std::string(pattern), nodes.size());
    if (added) {
      nodes.push_back({std::string(pattern), has_wildcard(pattern)});
      out.emplace_back();
    }
    return it->second;
  }

  bool matches(std::size_t n, std::string_view name) const {
    return nodes[n].glob ? glob_match(nodes[n].pattern, name) : nodes[n].pattern == name;
  }

  bool mentions(std::string_view name) const {
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      if (matches(n, name)) return true;
    }
    return std::any_of(levels.begin(), levels.end(), [&](const level& l) { return glob_match(l.glob, name); });
  }

  const level* level_of(std::string_view name) const {
    for (const level& l : levels) {
      if (glob_match(l.glob, name)) return &l;
    }
    return nullptr;
  }

  // The arrows of a declared path from class `from` to class `to` (empty: none). Breadth first, so
  // the shortest chain of rules. A state is a node and what is known of the class standing there:
  //   start:  the class we started from, no arrow taken yet;
  //   fixed:  one particular class, after at least one arrow (a plain name, or a glob entered from one);
  //   free:   any class of a glob, entered by an arrow (every class it matches comes after).
  std::vector<std::size_t> path(std::string_view from, std::string_view to) const {
    enum : std::uint8_t { start = 0, fixed = 1, free = 2 };
    struct visit {
      long parent = -1;  // index into `states`
      long via = -1;     // the arrow taken to get here (-1: an alias step)
    };
    const std::size_t n = nodes.size();
    std::vector<long> seen_at(n * 3, -1);
    std::vector<std::pair<std::size_t, std::uint8_t>> states;
    std::vector<visit> how;
    std::deque<long> queue;
    auto push = [&](std::size_t at_node, std::uint8_t s, long parent, long via) {
      long& slot = seen_at[at_node * 3 + s];
      if (slot >= 0) return;
      slot = static_cast<long>(states.size());
      states.emplace_back(at_node, s);
      how.push_back({parent, via});
      queue.push_back(slot);
    };
    for (std::size_t i = 0; i < n; ++i) {
      if (matches(i, from)) push(i, start, -1, -1);
    }
    while (!queue.empty()) {
      const long at = queue.front();
      queue.pop_front();
      const auto [u, s] = states[static_cast<std::size_t>(at)];
      const bool target = s != start && (nodes[u].glob ? s == free && glob_match(nodes[u].pattern, to)
                                                       : nodes[u].pattern == to);
      if (target) {
        std::vector<std::size_t> used;
        for (long v = at; v >= 0; v = how[static_cast<std::size_t>(v)].parent) {
          if (how[static_cast<std::size_t>(v)].via >= 0) {
            used.push_back(static_cast<std::size_t>(how[static_cast<std::size_t>(v)].via));
          }
        }
        std::reverse(used.begin(), used.end());
        return used;
      }
      for (std::size_t a : out[u]) {
        const std::size_t v = arrows[a].to;
        push(v, nodes[v].glob ? free : fixed, at, static_cast<long>(a));
      }
      if (!nodes[u].glob) {
        // This class is a plain name: every glob that matches it carries its rules.
        for (std::size_t g = 0; g < n; ++g) {
          if (nodes[g].glob && glob_match(nodes[g].pattern, nodes[u].pattern)) {
            push(g, s == start ? start : fixed, at, -1);
          }
        }
      } else if (s == free) {
        // Any class of this glob comes here: in particular each plain name it matches.
        for (std::size_t l = 0; l < n; ++l) {
          if (!nodes[l].glob && glob_match(nodes[u].pattern, nodes[l].pattern)) push(l, fixed, at, -1);
        }
      }
    }
    return {};
  }
};

declared_order::declared_order() : rules_(std::make_unique<rules>()) {}
declared_order::~declared_order() = default;

bool declared_order::empty() const noexcept { return rules_->arrows.empty() && rules_->levels.empty(); }

std::size_t declared_order::rule_count() const noexcept { return rules_->arrows.size() + rules_->levels.size(); }

std::string declared_order::parse(std::string_view text, std::string_view origin) {
  rules parsed = *rules_;  // all or nothing
  std::size_t line_no = 0;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    const std::string here = std::string(origin) + ":" + std::to_string(line_no);
    if (const std::size_t hash = raw.find('#'); hash != std::string_view::npos) raw = raw.substr(0, hash);
    const std::string_view line = trim(raw);
    if (line.empty()) {
      if (end == text.size()) break;
      continue;
    }
    if (line.find('\0') != std::string_view::npos) return here + ": a NUL character (" + std::string(kAccepted) + ")";
    unsigned level_n = 0;
    std::string_view rest;
    std::string error;
    if (parse_level(line, level_n, rest, error)) {
      if (!error.empty()) return here + ": " + error + " (" + std::string(kAccepted) + ")";
      std::size_t globs = 0;
      std::size_t g = 0;
      while (true) {
        g = rest.find_first_not_of(" \t\r\v\f,", g);
        if (g == std::string_view::npos) break;
        std::size_t e = rest.find_first_of(" \t\r\v\f,", g);
        if (e == std::string_view::npos) e = rest.size();
        parsed.levels.push_back({std::string(rest.substr(g, e - g)), level_n, here + ": " + std::string(line)});
        ++globs;
        g = e;
      }
      if (globs == 0) return here + ": 'level " + std::to_string(level_n) + ":' names no class (" + std::string(kAccepted) + ")";
    } else {
      std::vector<std::string_view> names;
      std::size_t from = 0;
      while (true) {
        const std::size_t arrow = line.find("->", from);
        names.push_back(trim(line.substr(from, arrow == std::string_view::npos ? std::string_view::npos : arrow - from)));
        if (arrow == std::string_view::npos) break;
        from = arrow + 2;
      }
      if (names.size() < 2) {
        return here + ": expected a lock order, got '" + std::string(line) + "' (" + std::string(kAccepted) + ")";
      }
      for (std::string_view name : names) {
        if (name.empty()) {
          return here + ": a name is missing in '" + std::string(line) + "' (" + std::string(kAccepted) + ")";
        }
      }
      for (std::size_t i = 0; i + 1 < names.size(); ++i) {
        if (names[i] == names[i + 1]) {
          return here + ": '" + std::string(names[i]) + " -> " + std::string(names[i]) +
                 "' orders a class after itself (same-class nesting is never checked; " + std::string(kAccepted) +
                 ")";
        }
        const std::size_t u = parsed.node_of(names[i]);
        const std::size_t v = parsed.node_of(names[i + 1]);
        parsed.out[u].push_back(parsed.arrows.size());
        parsed.arrows.push_back({u, v, here + ": " + std::string(names[i]) + " -> " + std::string(names[i + 1])});
      }
    }
    if (end == text.size()) break;
  }
  // A cycle between plain names can never be satisfied: say where.
  for (const rules::arrow& a : parsed.arrows) {
    const rules::node& u = parsed.nodes[a.from];
    const rules::node& v = parsed.nodes[a.to];
    if (u.glob || v.glob) continue;
    const std::vector<std::size_t> back = parsed.path(v.pattern, u.pattern);
    if (back.empty()) continue;
    std::string chain;
    for (std::size_t b : back) chain += (chain.empty() ? "" : "; ") + parsed.arrows[b].where;
    return a.where + ": contradicts the other rules, which put " + v.pattern + " before " + u.pattern + " (" +
           chain + ")";
  }
  *rules_ = std::move(parsed);
  std::lock_guard<std::mutex> g(memo_mu_);
  memo_.clear();
  return {};
}

declared_order::result declared_order::check(std::string_view held, std::string_view taken, bool strict) const {
  result r;
  if (held == taken || empty()) return r;
  std::string key;
  key.reserve(held.size() + taken.size() + 2);
  key.append(held).push_back('\x1f');
  key.append(taken).push_back(strict ? 's' : 'n');
  {
    std::lock_guard<std::mutex> g(memo_mu_);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  }
  const rules& rs = *rules_;
  const rules::level* lh = rs.level_of(held);
  const rules::level* lt = rs.level_of(taken);
  if (const std::vector<std::size_t> back = rs.path(taken, held); !back.empty()) {
    r.v = verdict::contradicts;
    for (std::size_t a : back) r.rules.push_back(rs.arrows[a].where);
  } else if (lh != nullptr && lt != nullptr && lh->n > lt->n) {
    r.v = verdict::contradicts;
    r.rules = {lt->where, lh->where};
  } else if (const std::vector<std::size_t> fwd = rs.path(held, taken); !fwd.empty()) {
    r.v = verdict::allowed;
    for (std::size_t a : fwd) r.rules.push_back(rs.arrows[a].where);
  } else if (lh != nullptr && lt != nullptr && lh->n < lt->n) {
    r.v = verdict::allowed;
    r.rules = {lh->where, lt->where};
  } else if (strict && rs.mentions(held) && rs.mentions(taken)) {
    r.v = verdict::undeclared;
  }
  std::lock_guard<std::mutex> g(memo_mu_);
  memo_.emplace(std::move(key), r);
  return r;
}

std::string declared_order::format(std::vector<std::pair<std::string, std::string>> edges, std::string_view header) {
  auto plain = [](std::string name) {
    for (char& c : name) {
      if (c == '*' || c == '?' || c == '[' || c == '#' || c == '>' || c == '\n' || c == '\r') c = '?';
    }
    return name;
  };
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  std::string out;
  std::size_t at = 0;
  while (at <= header.size() && !header.empty()) {
    std::size_t end = header.find('\n', at);
    if (end == std::string_view::npos) end = header.size();
    out += "# " + std::string(header.substr(at, end - at)) + "\n";
    at = end + 1;
  }
  for (const auto& [from, to] : edges) {
    if (from == to) continue;
    out += plain(from) + " -> " + plain(to) + "\n";
  }
  return out;
}

}  // namespace lockgraph::detail
