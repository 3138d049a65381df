// stack_trace.cpp: capture with Boost.Stacktrace's safe_dump_to (no symbolization, no locks); print
// with libbacktrace's DWARF reader when the toolchain ships it (GCC does, as libbacktrace.a), which
// names every inlined frame at an address (at -O2 the function that took the lock is usually inlined
// into its caller); otherwise with Boost.Stacktrace's frame API, one name per address.
#include "stack_trace.hpp"

#include <cxxabi.h>

#include <boost/stacktrace.hpp>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#if LOCKGRAPH_HAVE_LIBBACKTRACE
#include <backtrace.h>
#endif

namespace lockgraph::detail {
namespace {

struct symbol {
  std::string function;
  std::string file;  // empty when the binary has no line info for it
  int line = 0;
  bool inlined = false;  // an inlined call inside the frame listed after it
};

std::string demangle(const char* name) {
  if (name == nullptr) return {};
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

#if LOCKGRAPH_HAVE_LIBBACKTRACE
backtrace_state* state() {
  // threaded=1: libbacktrace serializes its own lazy DWARF loading. Created once, never freed.
  static backtrace_state* s = backtrace_create_state(nullptr, 1, [](void*, const char*, int) {}, nullptr);
  return s;
}

// Innermost first: libbacktrace calls back once per inline level at `pc`.
std::vector<symbol> symbolize(std::uintptr_t addr) {
  std::vector<symbol> out;
  // A return address points after the call; the call itself is one byte earlier.
  const std::uintptr_t pc = addr > 0 ? addr - 1 : addr;
  backtrace_pcinfo(
      state(), pc,
      [](void* data, std::uintptr_t, const char* file, int line, const char* function) {
        auto* syms = static_cast<std::vector<symbol>*>(data);
        if (function == nullptr && file == nullptr) return 0;
        syms->push_back({demangle(function), file != nullptr ? file : "", line, true});
        return 0;
      },
      [](void*, const char*, int) {}, &out);
  if (!out.empty()) {
    out.back().inlined = false;  // the outermost level is the real frame
  } else {
    backtrace_syminfo(
        state(), pc,
        [](void* data, std::uintptr_t, const char* name, std::uintptr_t, std::uintptr_t) {
          if (name != nullptr) static_cast<std::vector<symbol>*>(data)->push_back({demangle(name), "", 0, false});
        },
        [](void*, const char*, int) {}, &out);
  }
  return out;
}
#else
std::vector<symbol> symbolize(std::uintptr_t addr) {
  const boost::stacktrace::frame f(reinterpret_cast<boost::stacktrace::frame::native_frame_ptr_t>(addr));
  symbol s{f.name(), f.source_file(), static_cast<int>(f.source_line()), false};
  if (s.function.empty() && s.file.empty()) return {};
  return {s};
}
#endif

// lockgraph's own frames, and the std::atomic internals inlined into its hooks.
bool is_lockgraph(const symbol& s) {
  return s.function.rfind("lockgraph::", 0) == 0 || s.function.rfind("std::__atomic_base", 0) == 0 ||
         s.function.rfind("std::atomic<", 0) == 0 || s.file.find("include/lockgraph/") != std::string::npos;
}

// Every frame (inline levels expanded), innermost first, without lockgraph's own leading frames.
template <class F>
void for_each_user_frame(const stack_trace& st, F&& f) {
  bool skipping = true;
  for (std::uintptr_t addr : st.frames) {
    std::vector<symbol> syms = symbolize(addr);
    if (syms.empty()) syms.push_back({});
    for (const symbol& s : syms) {
      if (skipping && is_lockgraph(s)) continue;
      skipping = false;
      f(addr, s);
    }
  }
}

std::string basename(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

}  // namespace

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

// The standard library's lock_guard/unique_lock frames sit on top of most acquisitions; a site names
// the user's code below them.
bool is_library(const symbol& s) {
  return s.function.rfind("std::", 0) == 0 || s.file.rfind("/usr/include/", 0) == 0;
}

std::string innermost_site(const stack_trace& st) {
  std::string site;
  for_each_user_frame(st, [&](std::uintptr_t, const symbol& s) {
    if (!site.empty() || is_library(s)) return;
    if (s.file.empty()) {
      site = s.function.empty() ? "?" : s.function;
      return;
    }
    site = basename(s.file) + ":" + std::to_string(s.line);
    // Names of templates and lambdas run long; the file:line says enough then.
    if (!s.function.empty() && s.function.size() <= 48) site += " (" + s.function + ")";
  });
  return site;
}

}  // namespace lockgraph::detail

namespace lockgraph {

std::string stack_trace::to_string(std::string_view indent) const {
  std::string out;
  unsigned shown = 0;
  detail::for_each_user_frame(*this, [&](std::uintptr_t addr, const detail::symbol& s) {
    char head[64];
    std::snprintf(head, sizeof head, "#%u 0x%" PRIxPTR, shown++, addr);
    out.append(indent).append(head);
    if (!s.function.empty()) out.append(" in ").append(s.function);
    if (!s.file.empty()) out.append(" ").append(s.file).append(":").append(std::to_string(s.line));
    if (s.inlined) out.append(" (inlined)");
    out.push_back('\n');
  });
  return out;
}

}  // namespace lockgraph
