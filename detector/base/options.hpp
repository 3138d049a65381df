// detector/base/options.hpp: the run-time options read from LOCKGRAPH_OPTIONS.
//
// Format: key=value pairs separated by ':', ',' or white space, in any mix ("a=1:b=2", "a=1,b=2",
// "a=1 b=2"), as the sanitizers accept them. A value that holds a separator (a path with a space or a
// colon) is quoted with ' or ": log_path='/tmp/my logs/lg'. Empty segments ("a=1::b=2", a trailing
// ':') and the empty string are accepted; a key given twice takes its last value; keys are
// case-sensitive.
// Parsing is a pure function of its input: it reads no environment and prints nothing, so the caller
// decides how to report an error (lockgraph prints "lockgraph: " + message and exits with status 2).
#ifndef LOCKGRAPH_DETECTOR_OPTIONS_HPP
#define LOCKGRAPH_DETECTOR_OPTIONS_HPP

#include <string>
#include <string_view>

namespace lockgraph::detail {

struct options {
  std::string report_dir;          // report_dir=DIR (non-empty path; not created here)
  int exitcode = -1;               // exitcode=N, 0..255; -1 = leave the exit status alone
  bool enabled = true;             // enabled=0|1: 0 turns all checking off at run time
  bool abort_on_deadlock = true;   // abort_on_deadlock=0|1: after a deadlock/self_deadlock report,
                                   //   abort (1) or block as std would (0)
  bool halt_on_report = false;     // halt_on_report=0|1: the first report of any kind aborts the process
  unsigned long_wait_ms = 0;       // long_wait_ms=N, 0..86400000; 0 = no watchdog
  unsigned stack_depth = 24;       // stack_depth=N, 0..128 frames captured per stack
  unsigned max_edges = 1'000'000;  // max_edges=N, 0..4000000000 lock-order edges recorded; 0 = no cap
  bool print_reports = true;       // print_reports=0|1: report text on stderr
  bool check_at_exit = true;       // check_at_exit=0|1: report locks still held at normal process exit
  int dump_signal = 0;             // dump_signal=N, 0..64: on signal N, report every blocked thread and
                                   //   write the wait-for graph (0 = install no handler)
  std::string log_path;            // log_path=stderr|stdout|PATH: where report text goes; PATH means
                                   //   PATH.<pid>, one file per process (empty = stderr)
  std::string strip_path_prefix;   // strip_path_prefix=PREFIX: cut from source paths in printed stacks
  std::string lock_order;          // lock_order=FILE: a declared lock order (graph/declared_order.hpp)
  bool lock_order_strict = false;  // lock_order_strict=0|1: also report orders between declared classes
                                   //   that the file does not allow
  std::string suppressions;        // suppressions=FILE: rules "<kind>:<glob>" for reports not to raise
                                   //   (read by the runtime; see report/suppressions.hpp)
};

// Parses `text` over `out`: keys absent from `text` keep the value `out` already has. Returns an empty
// string on success. Otherwise returns one line without a trailing newline that names what was wrong
// and what is accepted, e.g. "LOCKGRAPH_OPTIONS: unknown key 'exit_code' (accepted: report_dir, ...)",
// and leaves `out` untouched, so a bad string never half-applies.
// Booleans are 0, 1, true or false; integers are unsigned decimal within the key's range.
// Allocates only for the error message; never throws anything but std::bad_alloc.
// `source` names where the text came from, first in every message ("LOCKGRAPH_OPTIONS",
// "lockgraph_default_options()").
std::string parse_options(std::string_view text, options& out, std::string_view source = "LOCKGRAPH_OPTIONS");

// Every accepted key, comma-separated, in declaration order: "report_dir, exitcode, ...".
std::string_view accepted_option_keys() noexcept;

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_OPTIONS_HPP
