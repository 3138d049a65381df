// report_sink.cpp: see report_sink.hpp.
#include "report/report_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/options.hpp"

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

}  // namespace

std::vector<std::string> report_sink::write_files(const report& r) {
  std::vector<std::string> written;
  if (opts_.report_dir.empty()) return written;
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
      write_all(2, "lockgraph: report_dir '" + opts_.report_dir + "': cannot write report files (" +
                       std::strerror(err) + "); reports still go to stderr\n");
    }
    return written;
  }
  return with_files.files;
}

bool report_sink::raise(const problem& p) { return publish(build_report(p), dedupe_key(p)); }

bool report_sink::publish(report r, const std::string& key) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!seen_.insert(key).second) return false;
    r.sequence = ++sequence_;
  }
  r.files = write_files(r);
  report_handler handler;
  {
    std::lock_guard<std::mutex> g(mu_);
    reports_.push_back(r);
    handler = handler_;
  }
  if (opts_.print_reports) write_all(2, to_text(r));
  if (handler) handler(r);
  if (opts_.halt_on_report) {
    write_all(2, "lockgraph: halt_on_report=1: aborting after the first report\n");
    std::abort();
  }
  return true;
}

std::vector<report> report_sink::all() const {
  std::lock_guard<std::mutex> g(mu_);
  return reports_;
}

std::size_t report_sink::count() const {
  std::lock_guard<std::mutex> g(mu_);
  return reports_.size();
}

report_handler report_sink::set_handler(report_handler h) {
  std::lock_guard<std::mutex> g(mu_);
  std::swap(h, handler_);
  return h;
}

}  // namespace lockgraph::detail
