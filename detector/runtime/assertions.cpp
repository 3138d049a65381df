// assertions.cpp: the out-of-line half of assert_held() / assert_shared_held() / assert_not_held()
// (include/lockgraph/detail/assertions.hpp). Runs on the asserting thread and reads only its own
// held stack; a false assertion becomes one assertion_failed problem per lock, assertion and site.
#include <string>

#include "base/labels.hpp"
#include "base/stack_trace.hpp"
#include "lockgraph/detail/assertions.hpp"
#include "report/problem.hpp"
#include "runtime/runtime.hpp"
#include "threads/thread_registry.hpp"

namespace lockgraph::detail {
namespace {

// How the calling thread holds `m`: -1 not at all, else the mode bits of its entry (exclusive wins
// over shared, for a shared mutex cannot be held both ways by one thread anyway).
int held_mode(thread_record* t, const lock_meta& m) noexcept {
  int found = -1;
  const std::uint32_t d = t->depth.load(std::memory_order_relaxed);
  for (std::uint32_t i = 0; i < d; ++i) {
    const held_entry* e = held_at(t, i);
    if (e == nullptr) break;
    if (e->lock.load(std::memory_order_relaxed) != &m) continue;
    const int mode = e->mode.load(std::memory_order_relaxed);
    if (found < 0 || (mode & mode_shared) == 0) found = mode;
  }
  return found;
}

const char* asserted(std::uint8_t what) noexcept {
  switch (what) {
    case assert_exclusive: return "assert_held()";
    case assert_shared: return "assert_shared_held()";
    default: return "assert_not_held()";
  }
}

}  // namespace

void check_assertion_slow(const lock_meta& m, std::uint8_t what, site where) noexcept {
  thread_record* t = tl_record;
  if (t == nullptr) t = register_thread();
  if (t->bypass != 0) return;  // checking off, or inside the detector
  const int mode = held_mode(t, m);
  bool ok = false;
  switch (what) {
    case assert_exclusive: ok = mode >= 0 && (mode & mode_shared) == 0; break;
    case assert_shared: ok = mode >= 0; break;
    default: ok = mode < 0; break;
  }
  if (ok) return;

  ++t->bypass;
  runtime& r = rt();
  thread_slot* self = slot_of(t);
  problem p;
  p.kind = report_kind::assertion_failed;
  p.locks = {label_ref::of(m).str()};
  p.thread = describe(*self);
  p.held = held_locks(t);
  p.stack = capture_stack(r.opts.stack_depth);
  p.assertion = asserted(what);
  p.when = std::string(where.file != nullptr ? where.file : "?") + ":" + std::to_string(where.line);
  p.held_as = mode < 0                      ? problem::holding::none
              : (mode & mode_shared) != 0 ? problem::holding::shared
                                          : problem::holding::exclusive;
  r.sink.raise(p);
  --t->bypass;
}

}  // namespace lockgraph::detail
