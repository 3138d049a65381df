// stack_trace.cpp: capture with Boost.Stacktrace's safe_dump_to (no symbolization, no locks), print
// with its frame API (libbacktrace: function, file and line from DWARF).
#include "stack_trace.hpp"

#include <boost/stacktrace.hpp>

#include <cinttypes>
#include <cstdio>

namespace lockgraph {

std::string stack_trace::to_string(std::string_view indent) const {
  std::string out;
  unsigned shown = 0;
  bool skipping_lockgraph = true;  // the innermost frames are lockgraph's own hooks: noise to a user
  for (std::uintptr_t addr : frames) {
    const boost::stacktrace::frame f(reinterpret_cast<boost::stacktrace::frame::native_frame_ptr_t>(addr));
    std::string name = f.name();
    if (skipping_lockgraph && name.rfind("lockgraph::", 0) == 0) continue;
    skipping_lockgraph = false;
    char head[64];
    std::snprintf(head, sizeof head, "#%u 0x%" PRIxPTR, shown++, addr);
    out.append(indent).append(head);
    if (!name.empty()) out.append(" in ").append(name);
    const std::string file = f.source_file();
    if (!file.empty()) {
      out.append(" ").append(file).append(":").append(std::to_string(f.source_line()));
    }
    out.push_back('\n');
  }
  return out;
}

namespace detail {

stack_trace capture_stack(unsigned depth) {
  stack_trace st;
  if (depth == 0) return st;
  constexpr unsigned kMax = 160;
  void* buf[kMax];
  const unsigned want = depth + 1 < kMax ? depth + 1 : kMax;
  // Skip safe_dump_to's own frame and this function's.
  const std::size_t n = boost::stacktrace::safe_dump_to(1, buf, want * sizeof(void*));
  st.frames.reserve(n);
  for (std::size_t i = 0; i < n && i < depth; ++i) {
    if (buf[i] == nullptr) break;
    st.frames.push_back(reinterpret_cast<std::uintptr_t>(buf[i]));
  }
  return st;
}

std::string innermost_site(const stack_trace& st) {
  for (std::uintptr_t addr : st.frames) {
    const boost::stacktrace::frame f(reinterpret_cast<boost::stacktrace::frame::native_frame_ptr_t>(addr));
    std::string name = f.name();
    if (name.rfind("lockgraph::", 0) == 0) continue;
    std::string file = f.source_file();
    if (file.empty()) return name;
    file = file.substr(file.find_last_of('/') + 1);  // npos + 1 == 0 keeps a bare name
    std::string site = file + ":" + std::to_string(f.source_line());
    // Function names of templates and lambdas run long; the file:line says enough then.
    if (!name.empty() && name.size() <= 48) site += " (" + name + ")";
    return site;
  }
  return {};
}

}  // namespace detail
}  // namespace lockgraph
