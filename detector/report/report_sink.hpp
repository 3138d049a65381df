// report_sink: where raised problems go. Builds the report (report/problem.hpp), deduplicates (once per
// distinct problem per process), numbers, stores, writes report_dir files (JSON + DOT, atomically),
// prints, and calls the user's handler.
#ifndef LOCKGRAPH_DETECTOR_REPORT_SINK_HPP
#define LOCKGRAPH_DETECTOR_REPORT_SINK_HPP

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "lockgraph/report.hpp"
#include "report/problem.hpp"

namespace lockgraph::detail {

struct options;

class report_sink {
 public:
  explicit report_sink(const options& opts) : opts_(opts) {}

  // Raises `p` unless the same problem (dedupe_key) was raised before in this process: builds its
  // report, numbers it, writes its files, prints it, hands it to the handler. Returns false for a
  // duplicate. Thread-safe; the caller must hold no internal lock (the handler runs here), and must
  // have its thread's bypass set.
  bool raise(const problem& p);

  std::vector<report> all() const;
  std::size_t count() const;
  report_handler set_handler(report_handler h);

  // fork(): hold the sink's lock across the fork (see runtime.cpp).
  void lock_for_fork() { mu_.lock(); }
  void unlock_after_fork() { mu_.unlock(); }

 private:
  bool publish(report r, const std::string& key);
  // Writes DIR/<stem>.json and .dot through a temporary file and rename(2), so a reader never sees a
  // partial file. Returns the paths written.
  std::vector<std::string> write_files(const report& r);

  const options& opts_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> seen_;
  std::vector<report> reports_;
  report_handler handler_;
  std::uint64_t sequence_ = 0;
  bool dir_error_printed_ = false;  // an unwritable report_dir is said once
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_REPORT_SINK_HPP
