// lockgraph/options.hpp: run-time control.
//
// lockgraph reads its options once, at the first use of any lockgraph primitive in the process: first
// the program's built-in defaults (lockgraph_default_options() below), then LOCKGRAPH_OPTIONS, whose
// keys override them. Both are key=value pairs separated by ':', ',' or spaces, in any mix
// ("exitcode=66:report_dir=out", "exitcode=66 report_dir=out"); a value holding a separator is quoted
// with ' or " (log_path='/tmp/my logs/lg'). Keys (see README.md for the full table):
//   report_dir=DIR        also write each report as DIR/lockgraph-<pid>-<n>.json and .dot (DIR and its
//                         parents are created if missing)
//   exitcode=N            a process that raised any report exits with status N at normal exit
//   enabled=0|1           0 turns all checking off (the types then behave as their std:: twins)
//   abort_on_deadlock=0|1 after reporting a deadlock or self-deadlock, abort (default) or block
//   halt_on_report=0|1    abort after the first report of any kind
//   long_wait_ms=N        report threads blocked longer than N ms (0 = off, the default)
//   stack_depth=N         frames kept per captured stack (default 24)
//   print_reports=0|1     print each report (default 1)
//   check_at_exit=0|1     report locks still held at normal process exit (default 1)
//   dump_signal=N         on signal N (1..64), report every blocked thread and write the wait-for
//                         graph to report_dir, or stderr (0 = no handler, the default)
//   log_path=PATH         print reports to the file PATH.<pid> (one per process) instead of stderr;
//                         also accepts stderr (the default) and stdout
//   strip_path_prefix=P   cut source paths in printed stacks up to and including P
//   max_edges=N           record at most N lock-order edges (default 1000000; 0 = no cap); past it
//                         new edges are not recorded, with one notice on stderr
//   lock_order=FILE       check acquisitions against the lock order declared in FILE ("a -> b",
//                         "level N: glob" lines); a violation is reported at its first occurrence
//   lock_order_strict=0|1 with lock_order: also report orders between declared classes that FILE
//                         does not allow (default 0)
//   suppressions=FILE     do not raise reports that a rule of FILE matches: one "<kind>:<glob>" a
//                         line (kind a report_kind name or *), '#' comments (README "Suppressions")
// An unknown key or malformed value prints one line naming it and the accepted keys, and the process
// exits with status 2.
#ifndef LOCKGRAPH_OPTIONS_HPP
#define LOCKGRAPH_OPTIONS_HPP

#include <string_view>

#include "lockgraph/detail/config.hpp"

// Options built into the program, like __tsan_default_options: define this function in the program
// (with C linkage) to return an option string; LOCKGRAPH_OPTIONS still overrides it key by key.
// lockgraph calls it once, at its first use, possibly before main() and from any thread, so it must
// not lock anything and should return a string literal. lockgraph itself defines a weak version that
// returns nullptr (no defaults).
//
//   extern "C" const char* lockgraph_default_options() { return "exitcode=66:report_dir=lockgraph-out"; }
extern "C" const char* lockgraph_default_options();

// Suppression rules built into the program, like __tsan_default_suppressions: define this function
// (with C linkage) to return rules in the suppressions=FILE format, one "<kind>:<glob>" a line; they
// are checked before the file's rules. Same calling conventions as lockgraph_default_options(); a bad
// rule is one error line naming "lockgraph_default_suppressions():<line>", and exit status 2.
//
//   extern "C" const char* lockgraph_default_suppressions() {
//     return "lock_order_inversion:*third_party/legacy/*\n"
//            "long_wait:slow_flush\n";
//   }
extern "C" const char* lockgraph_default_suppressions();

namespace lockgraph {

#if !LOCKGRAPH_DISABLED
// True when checking is on in this process (compiled in, and not turned off with enabled=0).
bool enabled() noexcept;
// Names the calling thread in reports and DOT output (at most 63 bytes are kept). Without it,
// lockgraph uses the name set with pthread_setname_np, if any.
void set_thread_name(std::string_view name) noexcept;
#else
inline bool enabled() noexcept { return false; }
inline void set_thread_name(std::string_view) noexcept {}
#endif

}  // namespace lockgraph

#endif  // LOCKGRAPH_OPTIONS_HPP
