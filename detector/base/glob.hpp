// glob: shell-style wildcard matching for the names users write in lockgraph's files (declared lock
// orders, suppressions): '*' any run of characters (also '/' and none), '?' one character, '[abc]',
// '[a-z]' and '[!abc]' one character of (or not of) a set. Everything else matches itself; a '['
// without its ']' is a literal '['. The whole text must match.
#ifndef LOCKGRAPH_DETECTOR_BASE_GLOB_HPP
#define LOCKGRAPH_DETECTOR_BASE_GLOB_HPP

#include <cstddef>
#include <string_view>

namespace lockgraph::detail {

// True when `s` holds a wildcard ('*', '?' or '['): a pattern rather than a plain name.
constexpr bool has_wildcard(std::string_view s) noexcept {
  return s.find_first_of("*?[") != std::string_view::npos;
}

namespace glob_internal {

// Matches the set starting at pattern[at] == '[' against c. Returns the index just past the closing
// ']' and sets `hit`; returns 0 when the set has no ']' (then '[' is a literal).
constexpr std::size_t match_set(std::string_view pattern, std::size_t at, char c, bool& hit) noexcept {
  std::size_t i = at + 1;
  const bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negate) ++i;
  bool in = false;
  bool first = true;
  for (; i < pattern.size(); ++i) {
    if (pattern[i] == ']' && !first) {
      hit = in != negate;
      return i + 1;
    }
    first = false;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      if (pattern[i] <= c && c <= pattern[i + 2]) in = true;
      i += 2;
    } else if (pattern[i] == c) {
      in = true;
    }
  }
  return 0;
}

}  // namespace glob_internal

// Iterative matcher with one backtrack point (the last '*'): linear in practice, never exponential.
constexpr bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;  // pattern index just past the last '*'
  std::size_t star_text = 0;                  // text index that '*' is currently extended to
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star = ++p;
        star_text = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        bool hit = false;
        const std::size_t next = glob_internal::match_set(pattern, p, text[t], hit);
        if (next != 0) {
          if (hit) {
            p = next;
            ++t;
            continue;
          }
        } else if (text[t] == '[') {
          ++p;
          ++t;
          continue;
        }
      } else if (pc == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star;  // let the last '*' take one more character
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_BASE_GLOB_HPP
