// labels: the names locks carry in reports, which are also their lock classes. A named lock keeps a
// literal name as it is and interns any other name (reference-counted: freed with the last lock and
// label of that name); a lock built with a lockgraph::lock_class carries the class's name; an unnamed
// lock is labelled "file:line" of its construction site (file without directories), "file:line[N]"
// for the Nth further lock one object's construction builds at that line (member_index()), or, when
// the standard library constructed it (std::make_unique, std::vector, emplace_back...), with the
// user's line that led there, found by symbolizing code addresses taken at construction (once per
// site, when needed).
//
// Lock classes (for the class graph, edge logs and fingerprints): class_key(m) is the lock's class as a
// stable string, the same in every run and on every machine (no address, no id): the name, or the
// label "file:line[N]" as above. Two locks are in one class exactly when their keys are equal;
// graph/class_graph.hpp numbers the keys (class ids) for one process.
#ifndef LOCKGRAPH_DETECTOR_LABELS_HPP
#define LOCKGRAPH_DETECTOR_LABELS_HPP

#include <cstdint>
#include <string>
#include <string_view>

#include "lockgraph/detail/lock_meta.hpp"
#include "lockgraph/report.hpp"

namespace lockgraph::detail {

// A lock's label as copied into the graph: cheap to copy, formatted on demand. A copy of an interned
// name holds a reference, so the label stays valid after its lock is destroyed (graph nodes and edges
// keep theirs as long as they live).
struct label_ref {
  const char* text = "?";   // see lock_meta::label
  std::uint32_t line = 1;   // see lock_meta::line
  std::uint8_t kind = label_literal;
  std::uint16_t member = 0;  // see lock_meta::member (label_site only)

  label_ref() noexcept = default;
  label_ref(const label_ref& o) noexcept;
  label_ref& operator=(const label_ref& o) noexcept;
  ~label_ref();

  // Safe on a lock another thread may be destroying (racy snapshots): interned names are never handed
  // back to the allocator, only reused, so the worst case is a stale name or "<destroyed lock>".
  static label_ref of(const lock_meta& m) noexcept;
  // The whole name (embedded NULs included), or "file:line". Resolves a label_std_site label by
  // symbolizing once per site (cached): call it off the detector's internal locks the first time
  // (see prepare_label()).
  std::string str() const;
};

// The class key of a lock (see the top of this file): label_ref::of(m).str(). Symbolizes a lock the
// standard library built (once per site): call it off the detector's internal locks, or after
// prepare_label(m). Thread-safe.
std::string class_key(const lock_meta& m);

// Resolves (symbolizes and caches) the label of a lock constructed by the standard library, so that
// formatting it later under an internal lock does not symbolize there. No-op for other labels.
void prepare_label(const lock_meta& m) noexcept;

// "T3 (worker-1)": a thread as reports, DOT labels and summaries name it.
std::string thread_label(const thread_ref& t);

// The number of distinct interned names alive (tests, benchmarks).
std::size_t interned_name_count() noexcept;

// fork(): the intern table's and the site cache's locks are held across fork() by the forking thread
// (called by the runtime's fork handlers, after the graph's and the sink's locks: a graph node may
// drop the last reference of a name while the graph lock is held).
void lock_labels_for_fork() noexcept;
void unlock_labels_after_fork() noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_LABELS_HPP
