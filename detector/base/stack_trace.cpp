// stack_trace.cpp: capture with the unwinder's _Unwind_Backtrace (no symbolization, no locks, no
// allocation but the vector); symbolize only when printed, with the backend chosen at configure time
// (LOCKGRAPH_STACKTRACE, see CMakeLists.txt):
//   libdw  elfutils' DWARF reader: every inlined frame at an address, each with its file:line (at -O2
//          the function that took the lock is usually inlined into its caller), whichever compiler
//          built the binary; needs no Boost, so it also works with libc++
//   boost  Boost.Stacktrace's frame API (backtrace flavour): one name and file:line per address
//   none   dladdr: the exported symbol's name only, no file:line
#include "stack_trace.hpp"

#include <cxxabi.h>
#include <unwind.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <vector>

#if LOCKGRAPH_STACKTRACE_LIBDW
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <unistd.h>

#include <mutex>
#elif LOCKGRAPH_STACKTRACE_BOOST
#include <boost/stacktrace/frame.hpp>
#else
#include <dlfcn.h>
#endif

namespace lockgraph::detail {
namespace {

struct symbol {
  std::string function;
  std::string file;  // empty when the binary has no line info for it
  int line = 0;
  bool inlined = false;  // an inlined call inside the frame listed after it
};

[[maybe_unused]] std::string demangle(const char* name) {
  if (name == nullptr) return {};
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

#if LOCKGRAPH_STACKTRACE_LIBDW
// One Dwfl for the process, describing its own mappings; libdw is not thread-safe, so one mutex
// serializes every use. Held across fork by the forking thread (pthread_atfork), so a child never
// inherits it locked. Created on first use, never freed (reports may be printed from atexit handlers).
class dwfl_session {
 public:
  static dwfl_session& get() {
    static dwfl_session* s = new dwfl_session();
    return *s;
  }

  std::mutex mu;

  // The module mapped at `pc`; when none is, the process may have loaded a library since the last
  // look: re-reads /proc/self/maps once.
  Dwfl_Module* module_at(Dwarf_Addr pc) {
    if (dwfl_ == nullptr) return nullptr;
    Dwfl_Module* mod = dwfl_addrmodule(dwfl_, pc);
    if (mod == nullptr) {
      report();
      mod = dwfl_addrmodule(dwfl_, pc);
    }
    return mod;
  }

 private:
  dwfl_session() {
    dwfl_ = dwfl_begin(&callbacks_);
    if (dwfl_ != nullptr) report();
    pthread_atfork([] { get().mu.lock(); }, [] { get().mu.unlock(); }, [] { get().mu.unlock(); });
  }

  void report() {
    dwfl_report_begin(dwfl_);
    dwfl_linux_proc_report(dwfl_, getpid());
    dwfl_report_end(dwfl_, nullptr, nullptr);
  }

  char* debuginfo_path_ = nullptr;
  Dwfl_Callbacks callbacks_{dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr, &debuginfo_path_};
  Dwfl* dwfl_ = nullptr;
};

std::string string_attr(Dwarf_Die* die, unsigned name) {
  Dwarf_Attribute attr;
  const char* s = dwarf_formstring(dwarf_attr_integrate(die, name, &attr));
  return s != nullptr ? std::string(s) : std::string();
}

// The C++ name of a subprogram or inlined call: its demangled linkage name when it has one (that
// carries the namespace, class and parameters), else its plain name ("main", C functions).
std::string function_name(Dwarf_Die* die) {
  for (unsigned attr : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (std::string linkage = string_attr(die, attr); !linkage.empty()) return demangle(linkage.c_str());
  }
  return string_attr(die, DW_AT_name);
}

// The compile unit whose code covers `pc`. libdw finds it through .debug_aranges, which clang does not
// emit by default; then every unit's own address ranges are searched.
Dwarf_Die* compile_unit_at(Dwfl_Module* mod, Dwarf_Addr pc, Dwarf_Addr& bias) {
  if (Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &bias); cu != nullptr) return cu;
  Dwarf_Die* cu = nullptr;
  while ((cu = dwfl_module_nextcu(mod, cu, &bias)) != nullptr) {
    if (dwarf_haspc(cu, pc - bias) > 0) return cu;
  }
  return nullptr;
}

// Appends the DIEs whose code covers `pc` below `parent`, outermost first. libdw's dwarf_getscopes
// does not look inside DW_TAG_namespace, where clang (unlike GCC) puts the definitions of namespaced
// functions; this walk does, and through classes (local and nested types' member functions).
bool find_scopes(Dwarf_Die* parent, Dwarf_Addr pc, std::vector<Dwarf_Die>& chain) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return false;
  do {
    switch (dwarf_tag(&child)) {
      case DW_TAG_subprogram:
      case DW_TAG_inlined_subroutine:
      case DW_TAG_lexical_block:
        if (dwarf_haspc(&child, pc) > 0) {
          chain.push_back(child);
          find_scopes(&child, pc, chain);
          return true;
        }
        break;
      case DW_TAG_namespace:
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        if (find_scopes(&child, pc, chain)) return true;
        break;
      default:
        break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

// Innermost first: one entry per inline level at `pc`, the real (out-of-line) function last.
std::vector<symbol> symbolize(std::uintptr_t addr) {
  std::vector<symbol> out;
  // A return address points after the call; the call itself is one byte earlier.
  const Dwarf_Addr pc = addr > 0 ? addr - 1 : addr;
  dwfl_session& session = dwfl_session::get();
  std::lock_guard<std::mutex> guard(session.mu);
  Dwfl_Module* mod = session.module_at(pc);
  if (mod == nullptr) return out;

  Dwarf_Addr bias = 0;
  if (Dwarf_Die* cu = compile_unit_at(mod, pc, bias); cu != nullptr) {
    // The innermost level's position comes from the line table; each outer level's is the call
    // site recorded on the inlined call it contains.
    const char* file = nullptr;
    int line = 0;
    if (Dwarf_Line* l = dwarf_getsrc_die(cu, pc - bias); l != nullptr) {
      file = dwarf_linesrc(l, nullptr, nullptr);
      if (dwarf_lineno(l, &line) != 0) line = 0;
    }
    Dwarf_Files* files = nullptr;
    if (dwarf_getsrcfiles(cu, &files, nullptr) != 0) files = nullptr;
    // dwarf_getscopes finds the innermost scope at pc, but above an inlined call it continues with the
    // scopes of the inlined function's definition; dwarf_getscopes_die walks the DIE tree instead,
    // through every enclosing inlined call up to the real function. Where dwarf_getscopes finds
    // nothing (a function defined inside a namespace DIE), find_scopes walks the tree itself.
    Dwarf_Die* innermost = nullptr;
    Dwarf_Die* found = nullptr;
    std::vector<Dwarf_Die> scopes;
    int n = dwarf_getscopes(cu, pc - bias, &innermost);
    if (n > 0) n = dwarf_getscopes_die(&innermost[0], &found);
    if (n > 0) {
      scopes.assign(found, found + n);
    } else if (find_scopes(cu, pc - bias, scopes)) {
      std::reverse(scopes.begin(), scopes.end());
    }
    std::free(innermost);
    std::free(found);
    for (Dwarf_Die& die : scopes) {
      Dwarf_Die* scope = &die;
      const int tag = dwarf_tag(scope);
      if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
      out.push_back({function_name(scope), file != nullptr ? file : "", line, tag == DW_TAG_inlined_subroutine});
      if (tag == DW_TAG_subprogram) break;
      Dwarf_Attribute attr;
      Dwarf_Word value = 0;
      file = nullptr;
      line = 0;
      if (files != nullptr && dwarf_formudata(dwarf_attr(scope, DW_AT_call_file, &attr), &value) == 0) {
        file = dwarf_filesrc(files, value, nullptr, nullptr);
      }
      if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_line, &attr), &value) == 0) line = static_cast<int>(value);
    }
    if (!out.empty()) out.back().inlined = false;  // the outermost level is the real frame
  }
  if (out.empty()) {
    // No debug info here: the ELF symbol table still names the function.
    if (const char* name = dwfl_module_addrname(mod, pc); name != nullptr) out.push_back({demangle(name), "", 0, false});
  }
  return out;
}
#elif LOCKGRAPH_STACKTRACE_BOOST
std::vector<symbol> symbolize(std::uintptr_t addr) {
  const boost::stacktrace::frame f(reinterpret_cast<boost::stacktrace::frame::native_frame_ptr_t>(addr));
  symbol s{f.name(), f.source_file(), static_cast<int>(f.source_line()), false};
  if (s.function.empty() && s.file.empty()) return {};
  return {s};
}
#else
std::vector<symbol> symbolize(std::uintptr_t addr) {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(addr > 0 ? addr - 1 : addr), &info) == 0 || info.dli_sname == nullptr) return {};
  return {symbol{demangle(info.dli_sname), "", 0, false}};
}
#endif

// Symbols per code address. A bug that repeats (50 account pairs, one transfer()) symbolizes the same
// few sites for each fingerprint and suppression check, and libdw costs about 0.1 ms per address:
// the second time is a lookup. Bounded (cleared when full). Only try_lock: the cache is an
// optimisation, so a busy cache, or one a forked child inherited locked, is simply bypassed. A
// library unloaded and another loaded at its address could be named wrongly (dlclose is rare in
// programs under test).
std::vector<symbol> symbolize_cached(std::uintptr_t addr) {
  static std::mutex* const mu = new std::mutex;  // never destroyed: reports may be printed at exit
  static auto* const cache = new std::unordered_map<std::uintptr_t, std::vector<symbol>>;
  {
    std::unique_lock<std::mutex> lk(*mu, std::try_to_lock);
    if (lk.owns_lock()) {
      if (const auto it = cache->find(addr); it != cache->end()) return it->second;
    }
  }
  std::vector<symbol> syms = symbolize(addr);
  std::unique_lock<std::mutex> lk(*mu, std::try_to_lock);
  if (lk.owns_lock()) {
    if (cache->size() >= 4096) cache->clear();
    cache->emplace(addr, syms);
  }
  return syms;
}

// lockgraph's own frames, and the std::atomic internals inlined into its hooks.
bool is_lockgraph(const symbol& s) {
  return s.function.rfind("lockgraph::", 0) == 0 || s.function.rfind("std::__atomic_base", 0) == 0 ||
         s.function.rfind("std::atomic<", 0) == 0 || s.file.find("include/lockgraph/") != std::string::npos;
}

// Every frame (inline levels expanded), innermost first, without lockgraph's own leading frames. An f
// that returns bool ends the walk by returning false: the frames past it are not symbolized.
template <class F>
void for_each_user_frame(const stack_trace& st, F&& f) {
  bool skipping = true;
  for (std::uintptr_t addr : st.frames) {
    std::vector<symbol> syms = symbolize_cached(addr);
    if (syms.empty()) syms.push_back({});
    for (const symbol& s : syms) {
      if (skipping && is_lockgraph(s)) continue;
      skipping = false;
      if constexpr (std::is_same_v<std::invoke_result_t<F&, std::uintptr_t, const symbol&>, bool>) {
        if (!f(addr, s)) return;
      } else {
        f(addr, s);
      }
    }
  }
}

std::string basename(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

// strip_path_prefix=P, as the sanitizers apply it: everything up to and including the first P in the
// path goes, and a "./" right after it.
std::atomic<const std::string*> g_strip_prefix{nullptr};

std::string_view shown_path(std::string_view path) {
  const std::string* prefix = g_strip_prefix.load(std::memory_order_acquire);
  if (prefix == nullptr || prefix->empty()) return path;
  const std::size_t at = path.find(*prefix);
  if (at == std::string_view::npos) return path;
  path.remove_prefix(at + prefix->size());
  if (path.substr(0, 2) == "./") path.remove_prefix(2);
  return path;
}

struct unwind_state {
  void** buf;
  unsigned skip;
  unsigned size;
  unsigned capacity;
};

_Unwind_Reason_Code unwind_one(_Unwind_Context* ctx, void* arg) {
  auto* u = static_cast<unwind_state*>(arg);
  if (u->skip > 0) {
    --u->skip;
    return _URC_NO_REASON;
  }
  const _Unwind_Ptr ip = _Unwind_GetIP(ctx);
  if (ip == 0) return _URC_END_OF_STACK;
  u->buf[u->size++] = reinterpret_cast<void*>(ip);
  return u->size < u->capacity ? _URC_NO_REASON : _URC_END_OF_STACK;
}

}  // namespace

void set_strip_path_prefix(std::string prefix) {
  // Published once and never freed: reports being printed on other threads may hold the old one.
  g_strip_prefix.store(new std::string(std::move(prefix)), std::memory_order_release);
}

// Not inlined, so "skip this function's own frame" holds at every optimization level.
__attribute__((noinline)) stack_trace capture_stack(unsigned depth) {
  stack_trace st;
  if (depth == 0) return st;
  constexpr unsigned kMax = 160;
  void* buf[kMax];
  unwind_state u{buf, 1, 0, depth < kMax ? depth : kMax};  // skip capture_stack's own frame
  _Unwind_Backtrace(&unwind_one, &u);
  st.frames.reserve(u.size);
  for (unsigned i = 0; i < u.size; ++i) st.frames.push_back(reinterpret_cast<std::uintptr_t>(buf[i]));
  return st;
}

// The standard library's lock_guard/unique_lock frames sit on top of most acquisitions; a site names
// the user's code below them.
bool is_library(const symbol& s) {
  return s.function.rfind("std::", 0) == 0 || s.file.rfind("/usr/include/", 0) == 0 ||
         s.file.find("/include/c++/") != std::string::npos;
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

std::string innermost_user_line(const stack_trace& st) {
  std::string user;
  std::string fallback;
  for_each_user_frame(st, [&](std::uintptr_t, const symbol& s) {
    if (!user.empty() || s.file.empty()) return;
    std::string here = basename(s.file) + ":" + std::to_string(s.line);
    if (is_library(s)) {
      if (fallback.empty()) fallback = std::move(here);
      return;
    }
    user = std::move(here);
  });
  return user.empty() ? fallback : user;
}

std::vector<frame_info> user_frames(const stack_trace& st) {
  std::vector<frame_info> out;
  for_each_user_frame(st, [&](std::uintptr_t, const symbol& s) { out.push_back({s.function, s.file, s.line}); });
  return out;
}

frame_info innermost_user_frame(const stack_trace& st) {
  // The walk stops at the first user frame: symbolizing is the cost here (a fingerprint per repeated
  // problem), and the frames past it are not needed.
  std::optional<frame_info> user;
  std::optional<frame_info> fallback;
  for_each_user_frame(st, [&](std::uintptr_t, const symbol& s) {
    if (!is_library(s)) {
      user = frame_info{s.function, s.file, s.line};
      return false;
    }
    if (!fallback) fallback = frame_info{s.function, s.file, s.line};
    return true;
  });
  if (user) return *user;
  return fallback.value_or(frame_info{});
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
    if (!s.file.empty()) out.append(" ").append(detail::shown_path(s.file)).append(":").append(std::to_string(s.line));
    if (s.inlined) out.append(" (inlined)");
    out.push_back('\n');
  });
  return out;
}

}  // namespace lockgraph
