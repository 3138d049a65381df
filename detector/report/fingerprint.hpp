// fingerprint: the stable name of a bug, so that one bug makes one report however often it happens.
//
// A report's fingerprint is the same string for the same bug across runs, machines, load addresses,
// thread ids and the number of lock instances involved: it is built from the report's kind, the class
// keys of its locks and the acquisition sites in its stacks (function and source file of the innermost
// user frame), never from addresses, thread ids or counts. A cycle is taken in its canonical rotation,
// so the same cycle closed from another edge has the same fingerprint.
//
// Pure functions of a report value (plus symbolizing its stacks in this process): no detector state,
// so lockgraph-merge or a test can compute them too.
#ifndef LOCKGRAPH_DETECTOR_REPORT_FINGERPRINT_HPP
#define LOCKGRAPH_DETECTOR_REPORT_FINGERPRINT_HPP

#include <string>
#include <string_view>

#include "lockgraph/report.hpp"

namespace lockgraph::detail {

// The class a lock label stands for, as far as the label alone tells: a named lock by its name, an
// unnamed one by its construction site ("file.cpp:12", kept as it is), with the parts that differ
// between instances of one class replaced by '#': address-like runs ("0x7ffd1234" -> "0x#") and an
// instance number at the end of a name ("account 17" -> "account #", "shard[3]" -> "shard[#]").
std::string class_key(std::string_view label);

// "transfer bank.cpp:35": function, source file name (no directories: the checkout's place does not
// matter) and line of the innermost user frame. Empty for an empty stack. Symbolizes.
// The line is in: the same misuse at two places is two bugs (and an unnamed lock's class is its
// construction line anyway); the price is that an edit above a site changes its fingerprint.
std::string fingerprint_site(const stack_trace& st);

// The text the fingerprint hashes, e.g.
//   "lock_order_inversion|account #>account #@transfer bank.cpp:35" (a cycle of one class at one
//   site, whatever the number of locks in it).
// Symbolizes the stacks it uses: call off the hot path.
std::string fingerprint_text(const report& r);

// 16 lowercase hex digits: FNV-1a (64 bit) of fingerprint_text(r).
std::string fingerprint_of(const report& r);

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_REPORT_FINGERPRINT_HPP
