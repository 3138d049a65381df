// labels.cpp: interning (oneTBB concurrent_unordered_set: lock-free lookups, stable elements).
#include "labels.hpp"

#include <oneapi/tbb/concurrent_unordered_set.h>

namespace lockgraph::detail {
namespace {

tbb::concurrent_unordered_set<std::string>& names() {
  static auto* set = new tbb::concurrent_unordered_set<std::string>();  // never destroyed: see runtime.cpp
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
