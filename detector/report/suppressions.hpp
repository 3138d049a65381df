// suppressions: rules that silence known reports (suppressions=FILE and lockgraph_default_suppressions()).
//
// One rule a line, "<kind>:<glob>": kind is a report kind's name (lock_order_inversion, deadlock, ...)
// or '*' for any; the glob (base/glob.hpp: * ? [..]) must match the whole of one of the report's
//  - lock labels and their class keys (report/fingerprint.hpp);
//  - function names in any of its stacks, as the symbolizer gives them (libdw: the plain name of
//    each inlined level; otherwise the demangled signature), also without the parameter list and
//    without the scope: "ns::bank::transfer(account&, long) const", "ns::bank::transfer", "transfer";
//  - source file paths in those stacks, as the debug info has them and as the file name alone;
//  - its fingerprint.
// Blank lines and lines starting with '#' are skipped; white space around kind and glob is ignored.
// The first rule that matches suppresses the report.
//
// Not thread-safe to build; const member functions are safe from any thread once built (the sink
// builds its rules before the first report).
#ifndef LOCKGRAPH_DETECTOR_REPORT_SUPPRESSIONS_HPP
#define LOCKGRAPH_DETECTOR_REPORT_SUPPRESSIONS_HPP

#include <string>
#include <string_view>
#include <vector>

#include "lockgraph/report.hpp"

namespace lockgraph::detail {

struct suppression_rule {
  std::string text;    // the rule as written (trimmed): "lock_order_inversion:*third_party/*"
  std::string origin;  // where: "lg.supp:3", "lockgraph_default_suppressions():1"
  bool any_kind = false;
  report_kind kind = report_kind::lock_order_inversion;
  std::string glob;
};

class suppressions {
 public:
  // Adds the rules of `text`, whose lines are numbered from 1 in messages as "<origin>:<line>".
  // Returns an empty string, or one line (no "lockgraph: " prefix, no newline) naming origin:line, the
  // bad rule and what is accepted; then no rule of `text` is added.
  std::string add(std::string_view text, std::string_view origin);

  // Reads `path` and adds its rules (origin = path). Errors as add(), and for a file that cannot be read.
  std::string add_file(const std::string& path);

  bool empty() const noexcept { return rules_.empty(); }
  const std::vector<suppression_rule>& rules() const noexcept { return rules_; }

  // The index of the first rule that suppresses `r`, or -1. Looks at names first and symbolizes the
  // report's stacks only when a rule of its kind did not match a name: call off the hot path.
  int match(const report& r) const;

 private:
  std::vector<suppression_rule> rules_;
};

// "transfer" for "ns::bank::transfer": the last component of a qualified name (templates and
// lambdas in it are kept whole).
std::string unqualified(std::string_view function);

// "transfer" for "transfer(account&, account&, long)", "ns::f<int>" for "ns::f<int>(int) const",
// "main::{lambda()#1}::operator()" for "main::{lambda()#1}::operator()() const": the function name
// without its parameter list and qualifiers. Unchanged when there is no parameter list.
std::string function_without_parameters(std::string_view function);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_REPORT_SUPPRESSIONS_HPP
