// tests/support/text.hpp: the one substring check every test file uses.
#ifndef LOCKGRAPH_TESTS_SUPPORT_TEXT_HPP
#define LOCKGRAPH_TESTS_SUPPORT_TEXT_HPP

#include <string_view>

namespace lgtest {

// True if `needle` occurs in `haystack`.
inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace lgtest

#endif  // LOCKGRAPH_TESTS_SUPPORT_TEXT_HPP
