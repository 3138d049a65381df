// lockgraph/detail/lock_meta.hpp: what every lockgraph primitive carries about itself (24 bytes):
// its graph node, its label (name or construction site) and its type. Part of hooks.hpp.
#ifndef LOCKGRAPH_DETAIL_LOCK_META_HPP
#define LOCKGRAPH_DETAIL_LOCK_META_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lockgraph/detail/config.hpp"
#include "lockgraph/lock_class.hpp"

namespace lockgraph::detail {

// How a held lock was taken. Bit flags, stored in one byte per held entry.
enum : std::uint8_t {
  mode_exclusive = 0,
  mode_shared = 1,  // lock_shared(): a reader
  mode_try = 2,     // try_lock*/timed: no lock-order edge leads into it
};

enum class lock_type : std::uint8_t {
  mutex,
  timed_mutex,
  recursive_mutex,
  recursive_timed_mutex,
  shared_mutex,
  shared_timed_mutex,
  condition_variable,
};

// What lock_meta::label holds (lock_meta::named).
enum : std::uint8_t {
  label_site = 0,      // label: construction file (a literal), line: construction line
  label_literal = 1,   // label: a name with static storage (a literal), line: its length
  label_interned = 2,  // label: a reference-counted interned name (base/labels.cpp), line: its length
  label_std_site = 3,  // label: a code address in the constructing code, line: offset of a return address
};

using site = ::lockgraph::site;

// A code address inside the constructing code after inlining, and the return address of the function
// it was inlined into (kept as an offset from the first when it fits in 32 bits, else 0). With
// std::make_unique & co. inlined into the user's function (as at -O1 and up), the first address,
// symbolized with its inline frames, names the user's line; the second covers one out-of-line level.
struct std_site_pcs {
  const char* pc;
  std::uint32_t ret_offset;
};
LOCKGRAPH_ALWAYS_INLINE std_site_pcs capture_std_site() noexcept {
#if (defined(__x86_64__) || defined(__aarch64__)) && (defined(__GNUC__) || defined(__clang__))
  const char* pc;
#if defined(__x86_64__)
  __asm__("leaq 0(%%rip), %0" : "=r"(pc));
#else
  __asm__("adr %0, ." : "=r"(pc));
#endif
  const char* ret = static_cast<const char*>(__builtin_return_address(0));
  const std::ptrdiff_t off = ret - pc;
  const bool fits = off >= INT32_MIN && off <= INT32_MAX && ret != nullptr;
  return {pc, fits ? static_cast<std::uint32_t>(static_cast<std::int32_t>(off)) : 0u};
#else
  return {nullptr, 0};
#endif
}

// What member_index() remembers per thread: the last few lines that built locks, and for each the codes
// of the members of the object being built (base/labels.cpp explains the rule).
struct member_runs {
  static constexpr std::size_t kSites = 4;  // lines followed at once
  static constexpr std::size_t kCodes = 8;  // members remembered per line
  struct run {
    const char* file;
    std::uint32_t line;
    std::uint32_t count;  // members of the current object so far (the first kCodes remembered)
    std::uintptr_t last;  // address of the last lock built at this line
    const void* codes[kCodes];
  };
  run runs[kSites];
  std::uint32_t last;    // the run used last
  std::uint32_t victim;  // the next run to reuse for a new line
};
// In the header, like tl_record: the program's own code computes its address without a call.
inline thread_local member_runs tl_member_runs{};

// The rank of a lock built at `file`:`line` by the code at `code` among the locks the same construction
// of one object builds at that line (0, 1, 2...; see lockgraph/lock_class.hpp). Out of line
// (base/labels.cpp); touches only the calling thread's `runs` (tl_member_runs).
std::uint16_t member_index(member_runs& runs, const char* file, std::uint32_t line, const void* code,
                           const void* self) noexcept;

// Interns `name` (one reference): the text of a label_interned label. Out of line (base/labels.cpp).
const char* intern_label(std::string_view name) noexcept;

constexpr std::size_t bounded_length(const char* s, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n && s[i] != '\0') ++i;
  return i;
}

// Per-primitive identity, embedded in every lockgraph type (24 bytes). Cheap to construct for
// unnamed locks: the label is the construction site, kept as two words and formatted only when a
// report needs it, plus its member rank (one out-of-line call touching thread-local state only, at
// run time; none for a constant-initialised global). The graph node is taken lazily the first time
// the lock is nested with another.
// Every constructor but the interning one is constexpr, so globals are constant-initialised.
struct lock_meta {
  // Graph node id (slot + generation), 0 until the lock first takes part in a lock-order edge.
  std::atomic<std::uint64_t> node{0};
  // See label_site ... label_std_site. Null only in a global used before its (dynamic) construction.
  const char* label;
  // The construction line, or the name's length, or the return address offset (see `named`).
  std::uint32_t line;
  lock_type type;
  std::uint8_t named;  // label_site, label_literal, label_interned or label_std_site
  // label_site: the rank among the locks one object's construction builds at that line (member_index()).
  std::uint16_t member = 0;

  constexpr lock_meta(site where, lock_type t) noexcept
      : label(where.file), line(where.line), type(t), named(label_site) {
    if (where.code != nullptr && !where.in_std) {  // never in a constant expression (code is null there)
      member = member_index(tl_member_runs, where.file, where.line, where.code, this);
    }
    if (where.in_std) {  // constructed by the standard library: only when optimizing, never constant
      const std_site_pcs s = capture_std_site();
      if (s.pc != nullptr) {
        label = s.pc;
        line = s.ret_offset;
        named = label_std_site;
      }
    }
  }
  // An explicit class: labelled with the class's name, kept as it is like a literal (a lock_class and
  // its name outlive its locks), so every lock of the class is in the class of that name.
  constexpr lock_meta(const lock_class& c, lock_type t) noexcept
      : label(c.name().data()), line(static_cast<std::uint32_t>(c.name().size())), type(t), named(label_literal) {}
  // A string literal (or any array of static storage): kept as it is, never copied, so this is a
  // constant expression and a named global is constant-initialised (with or without constinit).
  // Trailing NULs of a larger array are not part of the name; embedded ones are.
  template <std::size_t N>
  constexpr lock_meta(const char (&name)[N], lock_type t) noexcept
      : label(name), line(N > 0 ? static_cast<std::uint32_t>(N - 1) : 0), type(t), named(label_literal) {
    while (line > 0 && name[line - 1] == '\0') --line;
  }
  // A filled-in char buffer is not a literal: copied (up to its first NUL) like any other name.
  template <std::size_t N>
  lock_meta(char (&name)[N], lock_type t) noexcept : lock_meta(std::string_view(name, bounded_length(name, N)), t) {}
  // Any other name is copied (interned, shared by every lock of that name, freed with the last one).
  // In a constant expression (constinit, constexpr string_view) the name has static storage: kept.
#if defined(__GNUC__) || defined(__clang__)
  constexpr lock_meta(std::string_view name, lock_type t) noexcept
      : label(nullptr), line(static_cast<std::uint32_t>(name.size())), type(t), named(label_interned) {
    if (__builtin_is_constant_evaluated()) {
      label = name.data();
      named = label_literal;
    } else {
      label = intern_label(name);
    }
  }
#else
  lock_meta(std::string_view name, lock_type t) noexcept
      : label(intern_label(name)), line(static_cast<std::uint32_t>(name.size())), type(t), named(label_interned) {}
#endif
  lock_meta(const lock_meta&) = delete;
  lock_meta& operator=(const lock_meta&) = delete;
};

static_assert(sizeof(void*) != 8 || sizeof(lock_meta) == 24, "lock_meta is 24 bytes on 64-bit targets");

// Drops an interned name's reference when its lock is destroyed. Out of line (base/labels.cpp).
LOCKGRAPH_COLD void release_label(lock_meta& m) noexcept;

// For destructors: nothing to do unless the name was interned.
LOCKGRAPH_ALWAYS_INLINE void release_label_of(lock_meta& m) noexcept {
  if (LOCKGRAPH_PREDICT_FALSE(m.named == label_interned)) release_label(m);
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETAIL_LOCK_META_HPP
