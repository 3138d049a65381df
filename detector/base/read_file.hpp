// read_file: a whole file into a string, for the files lockgraph's options and tools name
// (lock_order=, suppressions=, edge logs, --check-order). C stdio, no iostreams: the runtime reads
// these while the program's own start-up runs.
#ifndef LOCKGRAPH_DETECTOR_BASE_READ_FILE_HPP
#define LOCKGRAPH_DETECTOR_BASE_READ_FILE_HPP

#include <cerrno>
#include <cstdio>
#include <string>

namespace lockgraph::detail {

// Reads the file at `path` into `*text` (replacing it). Returns 0, or the errno of what failed: the
// open, or a read part way (a directory opens but does not read: EISDIR), so a caller never takes a
// partial or empty text for the file.
inline int read_whole_file(const std::string& path, std::string* text) {
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (f == nullptr) return errno != 0 ? errno : EIO;
  text->clear();
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text->append(buf, n);
  const int err = std::ferror(f) != 0 ? (errno != 0 ? errno : EIO) : 0;
  std::fclose(f);
  return err;
}

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_BASE_READ_FILE_HPP
