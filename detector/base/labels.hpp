// labels: the names locks carry in reports. A named lock keeps a literal name as it is and interns any
// other name (reference-counted: freed with the last lock and label of that name); an unnamed lock is
// labelled "file:line" of its construction site (file without directories), or, when the standard
// library constructed it (std::make_unique, std::vector, emplace_back...), with the user's line that
// led there, found by symbolizing code addresses taken at construction (once per site, when needed).
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
