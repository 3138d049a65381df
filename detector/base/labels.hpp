// labels: the names locks carry in reports. A named lock's name is interned once per distinct name;
// an unnamed lock is labelled "file:line" of its construction site (file without directories).
#ifndef LOCKGRAPH_DETECTOR_LABELS_HPP
#define LOCKGRAPH_DETECTOR_LABELS_HPP

#include <cstdint>
#include <string>
#include <string_view>

#include "lockgraph/detail/lock_meta.hpp"
#include "lockgraph/report.hpp"

namespace lockgraph::detail {

// A lock's label as copied into the graph: cheap to copy, formatted on demand.
struct label_ref {
  const char* text = "?";  // interned name or construction file
  std::uint32_t line = 0;  // 0 for named
  bool named = true;

  static label_ref of(const lock_meta& m) noexcept { return label_ref{m.label, m.line, m.named != 0}; }
  std::string str() const;
};

// "T3 (worker-1)": a thread as reports, DOT labels and summaries name it.
std::string thread_label(const thread_ref& t);

// A stable copy of `name`, shared by every lock with the same name; never freed (memory grows with the
// number of distinct names ever used). Thread-safe and lock-free; allocates only for a new name.
const char* intern_name(std::string_view name) noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_LABELS_HPP
