// labels.cpp: interning (oneTBB concurrent_unordered_set: lock-free lookups, stable elements).
#include "labels.hpp"

// GCC 12 warns (-Warray-bounds) inside oneTBB's split-ordered list, whose dummy head node it mistakes
// for an out-of-bounds array when the allocator is std::allocator; the code is fine. Silenced for this
// file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif
#include <oneapi/tbb/concurrent_unordered_set.h>

namespace lockgraph::detail {
namespace {

// std::allocator, not oneTBB's scalable allocator: LeakSanitizer does not scan tbbmalloc's memory and
// would call every interned name a leak in a user's ASan build.
using name_set = tbb::concurrent_unordered_set<std::string, std::hash<std::string>, std::equal_to<std::string>,
                                               std::allocator<std::string>>;

name_set& names() {
  static auto* set = new name_set();  // never destroyed: locks may be named during static destruction
  return *set;
}

}  // namespace

const char* intern_name(std::string_view name) noexcept {
  auto& set = names();
  std::string key(name);
  auto it = set.find(key);
  if (it == set.end()) it = set.insert(std::move(key)).first;
  return it->c_str();
}

std::string label_ref::str() const {
  if (named) return text;
  std::string_view file(text);
  const auto slash = file.find_last_of('/');
  if (slash != std::string_view::npos) file.remove_prefix(slash + 1);
  std::string out(file);
  out.push_back(':');
  out.append(std::to_string(line));
  return out;
}

}  // namespace lockgraph::detail

// The naming constructor lives here so that headers need no allocation or container code.
lockgraph::detail::lock_meta::lock_meta(std::string_view name, lock_type t) noexcept
    : label(intern_name(name)), line(0), type(t), named(1) {}
