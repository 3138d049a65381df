// report_sink: where raised problems go. Builds the report (report/problem.hpp), deduplicates (once per
// distinct problem per process), fingerprints it (report/fingerprint.hpp), drops it when a suppression
// rule matches (report/suppressions.hpp), counts a repeat of a fingerprint already raised as one more
// occurrence of that report, and otherwise numbers, stores, writes report_dir files (JSON + DOT,
// atomically), prints, and calls the user's handler.
#ifndef LOCKGRAPH_DETECTOR_REPORT_SINK_HPP
#define LOCKGRAPH_DETECTOR_REPORT_SINK_HPP

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lockgraph/report.hpp"
#include "report/problem.hpp"
#include "report/suppressions.hpp"

namespace lockgraph::detail {

struct options;

class report_sink {
 public:
  explicit report_sink(const options& opts) : opts_(opts) {}

  // Raises `p` unless the same problem (dedupe_key) was raised before in this process: builds its
  // report and fingerprint; a suppressed report counts for its rule and goes no further; a report
  // whose fingerprint was raised before adds one to that report's occurrences; otherwise numbers it,
  // writes its files, prints it, hands it to the handler. Returns true only in that last case (the
  // report is new). Thread-safe; the caller must hold no internal lock (the handler runs here), and
  // must have its thread's bypass set.
  bool raise(const problem& p);

  // The rules reports are checked against. Not thread-safe: set once, before the first raise().
  void set_suppressions(suppressions rules) { suppressions_ = std::move(rules); }
  // True when a rule suppresses `r` (a report built elsewhere, e.g. by check_quiescent()); counts no
  // hit. Symbolizes when a rule needs it. Thread-safe.
  bool suppressed(const report& r) const { return suppressions_.match(r) >= 0; }

  // At normal process exit: one line per report that occurred more than once (when print_reports),
  // one line per suppression rule that matched with its count and one listing the rules that never
  // did; the JSON file of a report that occurred more than once is rewritten with the final count.
  // Thread-safe.
  void finish();

  std::vector<report> all() const;
  // Problems that count for exitcode: every report published (reset() does not lower it), plus
  // problems noted with note_problem().
  std::size_t count() const;
  report_handler set_handler(report_handler h);

  // lockgraph::expect_report: a claim function sees every report before anything else (dedupe
  // included); returning true swallows it (raise() then returns true and nothing else happens).
  // Thread-safe; the function must be thread-safe and must not raise.
  using claim_fn = bool (*)(const report&);
  void set_claim(claim_fn f) noexcept { claim_.store(f, std::memory_order_release); }
  // Counts a problem that is not a report (an unmet expect_report) for exitcode. Thread-safe.
  void note_problem();
  // lockgraph::reset(): forgets every report and what was seen (reports() is empty again, a problem
  // seen before is raised again). Sequence numbers and count() go on. Thread-safe.
  void forget_reports();
  // The sequence number the next published report will carry. Thread-safe.
  std::uint64_t next_sequence() const;

  // Writes lockgraph's output (report text, its own one-line notices) where log_path says: stderr
  // (the default), stdout, or PATH.<pid>, opened on first use in each process (a forked child opens
  // its own). A PATH that cannot be opened is said once on stderr, and the text goes to stderr.
  // Thread-safe; one write(2) per call, so texts from two threads do not interleave.
  void print(const std::string& text);

  // Creates report_dir with its parents if missing. False (after one error line, once per process)
  // when it cannot be created. Thread-safe.
  bool make_report_dir();

  // Called right before halt_on_report aborts the process, so what must outlive it (the edge log) is
  // written first. Set once by the runtime, before any report.
  void set_before_abort(void (*f)() noexcept) { before_abort_ = f; }

  // fork(): hold the sink's locks across the fork (see runtime.cpp).
  void lock_for_fork() {
    mu_.lock();
    log_mu_.lock();
  }
  void unlock_after_fork() {
    log_mu_.unlock();
    mu_.unlock();
  }
  // In a forked child: start over as a process of its own (no reports, a count of 0 for exitcode, no
  // problem seen yet, one-time notices not yet said). The handler stays.
  void reset_after_fork();

 private:
  bool publish(report r);
  // Calls the handler; an exception from it is caught and said once (see report.hpp's contract).
  void call_handler(const report_handler& handler, const report& r);
  // Writes DIR/<stem>.json and .dot through a temporary file and rename(2), so a reader never sees a
  // partial file. Returns the paths written.
  std::vector<std::string> write_files(const report& r);

  const options& opts_;
  void (*before_abort_)() noexcept = nullptr;
  mutable std::mutex mu_;
  std::unordered_set<std::string> seen_;
  // fingerprint -> index in reports_, or kPending while its first report is being published (repeats
  // arriving meanwhile are counted in pending_repeats_ and added when it is stored).
  static constexpr std::size_t kPending = static_cast<std::size_t>(-1);
  std::unordered_map<std::string, std::size_t> by_fingerprint_;
  std::unordered_map<std::string, std::uint64_t> pending_repeats_;
  suppressions suppressions_;           // immutable after set_suppressions()
  std::vector<std::uint64_t> hits_;     // per rule of suppressions_
  std::vector<report> reports_;
  report_handler handler_;
  std::uint64_t sequence_ = 0;
  std::size_t problems_ = 0;  // count()
  std::atomic<claim_fn> claim_{nullptr};
  bool dir_error_printed_ = false;  // an unwritable report_dir is said once
  bool handler_threw_said_ = false;  // a throwing handler is said once

  std::mutex log_mu_;      // after mu_ when both are taken
  int log_fd_ = -1;        // the log_path file, opened by process log_pid_
  long log_pid_ = 0;
  bool log_failed_ = false;  // log_path could not be opened in process log_pid_: stderr instead
};

// mkdir -p: creates `path` and its missing parents (mode 0777 less the umask). Returns 0, or the
// errno of the first failure with the directory that failed in `*failed`.
int make_dirs(const std::string& path, std::string* failed);

// Creates `path` with `content` through `path`.tmp and rename(2), so a reader never sees a partial
// file. Returns 0 or an errno value.
int write_atomically(const std::string& path, const std::string& content);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_REPORT_SINK_HPP
