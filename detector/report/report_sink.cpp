// report_sink.cpp: see report_sink.hpp.
#include "report/report_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cxxabi.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>

#include "base/options.hpp"
#include "report/fingerprint.hpp"

namespace lockgraph::detail {
namespace {

// write(2) until done; stderr text goes out in one piece so reports from two threads do not interleave.
bool write_all(int fd, const std::string& s) {
  const char* p = s.data();
  std::size_t left = s.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

// Set while this thread runs the report handler: a report raised by what the handler does (a
// self-deadlock on a lock its thread holds, a check_quiescent() call) is published but not handed to
// the handler again, which would recurse.
thread_local bool t_in_handler = false;

// long_wait and all_threads_blocked describe a moment (this wait, this dump), and each thread's wait
// is news: they are raised per problem as before. Every other kind names a defect in the code, raised
// once per fingerprint.
bool merged_by_fingerprint(report_kind k) {
  return k != report_kind::long_wait && k != report_kind::all_threads_blocked;
}

}  // namespace

int make_dirs(const std::string& path, std::string* failed) {
  std::size_t at = 0;
  while (at != std::string::npos) {
    at = path.find('/', at + 1);
    const std::string dir = path.substr(0, at);
    if (dir.empty() || ::mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST) continue;
    const int err = errno;
    if (failed != nullptr) *failed = dir;
    return err;
  }
  // Every component exists; the last must be a directory.
  struct stat st {};
  int err = 0;
  if (::stat(path.c_str(), &st) != 0) {
    err = errno;
  } else if (!S_ISDIR(st.st_mode)) {
    err = ENOTDIR;
  }
  if (err != 0 && failed != nullptr) *failed = path;
  return err;
}

// Creates `path` from `content` atomically: a temporary beside it, fsync-free (a crash of the machine
// is not our concern; a crash of the process is), then rename(2). Returns 0 or an errno value.
int write_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  const bool ok = write_all(fd, content);
  const int write_errno = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return write_errno;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return e;
  }
  return 0;
}

bool report_sink::make_report_dir() {
  std::string failed;
  const int err = make_dirs(opts_.report_dir, &failed);
  if (err == 0) return true;
  std::lock_guard<std::mutex> g(mu_);
  if (!dir_error_printed_) {
    dir_error_printed_ = true;
    std::string line = "lockgraph: report_dir '" + opts_.report_dir + "': cannot create directory";
    if (failed != opts_.report_dir) line += " '" + failed + "'";
    print(line + " (" + std::strerror(err) + "); reports still go to " +
          (opts_.log_path.empty() ? std::string("stderr") : opts_.log_path) + "\n");
  }
  return false;
}

void report_sink::print(const std::string& text) {
  std::lock_guard<std::mutex> g(log_mu_);
  int fd = 2;
  if (opts_.log_path == "stdout") {
    fd = 1;
  } else if (!opts_.log_path.empty() && opts_.log_path != "stderr") {
    const long pid = static_cast<long>(::getpid());
    if (log_pid_ != pid) {
      // First use in this process. A descriptor inherited across fork() is the parent's file.
      if (log_fd_ >= 0) ::close(log_fd_);
      log_pid_ = pid;
      const std::string path = opts_.log_path + "." + std::to_string(pid);
      log_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      log_failed_ = log_fd_ < 0;
      if (log_failed_) {
        write_all(2, "lockgraph: log_path '" + opts_.log_path + "': cannot open '" + path + "' (" +
                         std::strerror(errno) + "); reports go to stderr\n");
      }
    }
    if (!log_failed_) fd = log_fd_;
  }
  write_all(fd, text);
}

std::vector<std::string> report_sink::write_files(const report& r) {
  std::vector<std::string> written;
  if (opts_.report_dir.empty()) return written;
  if (!make_report_dir()) return written;
  // pid + per-process sequence: unique among processes sharing the directory on this host. O_EXCL on
  // the temporary catches the rest (a pid reused while old files remain): then a suffix is added.
  char stem[96];
  std::snprintf(stem, sizeof stem, "lockgraph-%ld-%04llu", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(r.sequence));
  std::string base = opts_.report_dir + "/" + stem;
  for (int attempt = 0; attempt < 100 && ::access((base + ".json").c_str(), F_OK) == 0; ++attempt) {
    base = opts_.report_dir + "/" + stem + "-" + std::to_string(attempt + 1);
  }
  report with_files = r;
  with_files.files = {base + ".json", base + ".dot"};
  int err = write_atomically(with_files.files[0], to_json(with_files));
  if (err == 0) err = write_atomically(with_files.files[1], to_dot(with_files));
  if (err != 0) {
    std::lock_guard<std::mutex> g(mu_);
    if (!dir_error_printed_) {
      dir_error_printed_ = true;
      print("lockgraph: report_dir '" + opts_.report_dir + "': cannot write report files (" + std::strerror(err) +
            "); reports still go to " + (opts_.log_path.empty() ? std::string("stderr") : opts_.log_path) + "\n");
    }
    return written;
  }
  return with_files.files;
}

bool report_sink::raise(const problem& p) {
  // A live lockgraph::expect_report sees the report first, before dedupe: a claimed one goes nowhere else.
  std::optional<report> built;
  if (const claim_fn claim = claim_.load(std::memory_order_acquire); claim != nullptr) {
    built = build_report(p);
    if (claim(*built)) return true;
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!seen_.insert(dedupe_key(p)).second) return false;
  }
  report r = built ? std::move(*built) : build_report(p);
  r.fingerprint = fingerprint_of(r);  // symbolizes: here, outside the sink's lock
  if (!suppressions_.empty()) {
    const int rule = suppressions_.match(r);
    if (rule >= 0) {
      std::lock_guard<std::mutex> g(mu_);
      hits_.resize(suppressions_.rules().size());
      ++hits_[static_cast<std::size_t>(rule)];
      return false;
    }
  }
  return publish(std::move(r));
}

bool report_sink::publish(report r) {
  {
    std::lock_guard<std::mutex> g(mu_);
    const auto [at, fresh] = !merged_by_fingerprint(r.kind) ? std::pair{by_fingerprint_.end(), true}
                                                            : by_fingerprint_.try_emplace(r.fingerprint, kPending);
    if (!fresh) {
      // The same bug again (another instance): one more occurrence of the report already raised.
      if (at->second == kPending) {
        ++pending_repeats_[r.fingerprint];
      } else {
        ++reports_[at->second].occurrences;
      }
      return false;
    }
    r.sequence = ++sequence_;
    ++problems_;
  }
  r.files = write_files(r);
  report_handler handler;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (const auto pending = pending_repeats_.find(r.fingerprint); pending != pending_repeats_.end()) {
      r.occurrences += pending->second;
      pending_repeats_.erase(pending);
    }
    if (merged_by_fingerprint(r.kind)) by_fingerprint_[r.fingerprint] = reports_.size();
    reports_.push_back(r);
    handler = handler_;
  }
  if (opts_.print_reports) print(to_text(r));
  if (handler && !t_in_handler) call_handler(handler, r);
  if (opts_.halt_on_report) {
    print("lockgraph: halt_on_report=1: aborting after the first report\n");
    if (before_abort_ != nullptr) before_abort_();
    std::fflush(nullptr);  // what the program printed through stdio is not lost with the abort
    std::abort();
  }
  return true;
}

// The handler is called from the detector's noexcept paths (a lock(), a thread's exit): an exception
// leaving it would be std::terminate. It is caught here, said once per process, and the program goes on.
// (The detector is built with exceptions even when its parent project disables them: CMakeLists.txt.)
void report_sink::call_handler(const report_handler& handler, const report& r) {
  t_in_handler = true;
  struct leave {
    ~leave() { t_in_handler = false; }
  } left;
  std::string what;  // a copy: the exception and its what() die with the catch block
  try {
    handler(r);
    return;
#if defined(__GLIBCXX__)
  } catch (abi::__forced_unwind&) {
    throw;  // thread cancellation (libstdc++'s unwinding of a cancelled thread) must unwind on
#endif
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "not a std::exception";
  }
  bool first = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    first = !handler_threw_said_;
    handler_threw_said_ = true;
  }
  if (first) {
    print(std::string("lockgraph: the report handler threw (") + what + ") for report #" +
          std::to_string(r.sequence) + "; ignored, the program goes on (a handler must not throw; later throws "
          "are ignored silently)\n");
  }
}

void report_sink::finish() {
  std::vector<report> repeated;
  std::vector<std::uint64_t> hits;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const report& r : reports_) {
      if (r.occurrences > 1) repeated.push_back(r);
    }
    hits = hits_;
  }
  hits.resize(suppressions_.rules().size());
  std::string text;
  for (const report& r : repeated) {
    if (opts_.print_reports) {
      text += "lockgraph: report #" + std::to_string(r.sequence) + " (" + to_string(r.kind) + ", fingerprint " +
              r.fingerprint + ") occurred " + std::to_string(r.occurrences) + " times: " + r.summary + "\n";
    }
    // The file was written at the first occurrence; it now gets the final count. DOT is unchanged.
    if (!r.files.empty()) write_atomically(r.files.front(), to_json(r));
  }
  std::string unused;
  for (std::size_t i = 0; i < hits.size(); ++i) {
    const suppression_rule& rule = suppressions_.rules()[i];
    if (hits[i] == 0) {
      unused += (unused.empty() ? "" : ", ") + ("'" + rule.text + "' (" + rule.origin + ")");
      continue;
    }
    text += "lockgraph: suppression '" + rule.text + "' (" + rule.origin + ") matched " + std::to_string(hits[i]) +
            (hits[i] == 1 ? " report\n" : " reports\n");
  }
  if (!unused.empty()) text += "lockgraph: unused suppressions: " + unused + "\n";
  if (!text.empty()) print(text);
}

void report_sink::reset_after_fork() {
  std::lock_guard<std::mutex> g(mu_);
  seen_.clear();
  by_fingerprint_.clear();
  pending_repeats_.clear();
  hits_.clear();
  reports_.clear();
  sequence_ = 0;
  problems_ = 0;
  dir_error_printed_ = false;
  handler_threw_said_ = false;
}

std::vector<report> report_sink::all() const {
  std::lock_guard<std::mutex> g(mu_);
  return reports_;
}

std::size_t report_sink::count() const {
  std::lock_guard<std::mutex> g(mu_);
  return problems_;
}

void report_sink::note_problem() {
  std::lock_guard<std::mutex> g(mu_);
  ++problems_;
}

void report_sink::forget_reports() {
  std::lock_guard<std::mutex> g(mu_);
  seen_.clear();
  by_fingerprint_.clear();  // indices into reports_
  pending_repeats_.clear();
  reports_.clear();
}

std::uint64_t report_sink::next_sequence() const {
  std::lock_guard<std::mutex> g(mu_);
  return sequence_ + 1;
}

report_handler report_sink::set_handler(report_handler h) {
  std::lock_guard<std::mutex> g(mu_);
  std::swap(h, handler_);
  return h;
}

}  // namespace lockgraph::detail
