// glob: shell-style wildcard matching for suppression rules (and any other user-written pattern).
//
// glob_match(pattern, text) is true when `pattern` matches the whole of `text`:
//   *      any run of characters, '/' included (patterns match names and paths alike)
//   ?      any one character
//   [abc]  one of the listed characters; [a-z] a range; [!abc] or [^abc] none of them; a ']' first in
//          the set is literal; a '[' without its ']' is a literal '['
//   \c     the character c itself (\* matches a star)
// Pure and constexpr: no allocation, no locale. Cost O(|pattern| * |text|) at worst (one backtrack
// point, the last '*', as in the classic iterative matcher), so rules stay cheap on long C++ names.
#ifndef LOCKGRAPH_DETECTOR_BASE_GLOB_HPP
#define LOCKGRAPH_DETECTOR_BASE_GLOB_HPP

#include <cstddef>
#include <string_view>

namespace lockgraph::detail {

namespace glob_internal {

// Matches the set starting at pattern[at] == '[' against c. Returns the index just past the set's
// ']', or 0 when the set is not closed (the '[' is then a literal). *matched tells the result.
constexpr std::size_t match_set(std::string_view pattern, std::size_t at, char c, bool* matched) {
  std::size_t i = at + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  while (i < pattern.size() && (pattern[i] != ']' || first)) {
    first = false;
    char lo = pattern[i];
    if (lo == '\\' && i + 1 < pattern.size()) lo = pattern[++i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      if (hi == '\\' && i + 3 < pattern.size()) {
        hi = pattern[i + 3];
        ++i;
      }
      i += 2;
    }
    if (lo <= c && c <= hi) found = true;
    ++i;
  }
  if (i >= pattern.size()) return 0;  // no closing ']'
  *matched = found != negate;
  return i + 1;
}

}  // namespace glob_internal

constexpr bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = std::string_view::npos;  // just past the last '*' seen
  std::size_t star_t = 0;                       // where that star's match currently ends
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = ++p;
        star_t = t;
        continue;
      }
      std::size_t next = 0;
      if (pc == '?') {
        next = p + 1;
      } else if (pc == '[') {
        bool matched = false;
        const std::size_t end = glob_internal::match_set(pattern, p, text[t], &matched);
        if (end == 0) {
          if (text[t] == '[') next = p + 1;
        } else if (matched) {
          next = end;
        }
      } else if (pc == '\\' && p + 1 < pattern.size()) {
        if (pattern[p + 1] == text[t]) next = p + 2;
      } else if (pc == text[t]) {
        next = p + 1;
      }
      if (next != 0) {
        p = next;
        ++t;
        continue;
      }
    }
    // Mismatch: let the last star eat one more character, or fail.
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// True when `pattern` holds a wildcard (*, ? or a closed [..] set): such a pattern must go through
// glob_match; one without can be compared as plain text.
constexpr bool has_wildcard(std::string_view pattern) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '*' || c == '?') return true;
    if (c == '[') {
      bool ignored = false;
      if (glob_internal::match_set(pattern, i, '\0', &ignored) != 0) return true;
    }
  }
  return false;
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_BASE_GLOB_HPP
