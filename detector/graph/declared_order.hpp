// declared_order: a lock order written down by the user (option lock_order=FILE), checked at every
// new acquisition chain, so an acquisition against it is reported the first time it happens, by one
// thread, with no cycle needed (MySQL's LOCK_ORDER idea, with lockdep-like classes).
//
// The file, one rule a line ('#' starts a comment; blank lines are ignored):
//   A -> B            A is taken before B: B may be acquired while A is held, never the other way round
//   A -> B -> C       a chain: A -> B and B -> C
//   level 10: db.*    every class matching a glob of the line has level 10 (several globs: spaces or
//                     commas between them); a lower level is taken before a higher one
// A and B are class names (a lock's name, or the "file:line" of its construction) or globs (*, ?, [..]).
// Arrows are transitive: A -> B and B -> C declare A before C; a chain passes from one rule to the
// next through the same name or glob, or through a name that the next rule's glob matches
// (A -> b1, b* -> C: A before C). Levels are compared on their own: a lock of a lower level may be
// held while one of a higher level is acquired, never the other way round; equal levels declare
// nothing. A cycle of plain names in the file (A -> B, B -> A) is an error.
//
// Verdicts for "`taken` acquired while `held` is held" (classes, different from each other):
//   contradicts: the file puts `taken` before `held` (by arrows or by levels): always reported;
//   allowed:     the file puts `held` before `taken`;
//   undeclared:  neither, and both classes appear in the file: reported with lock_order_strict=1;
//   unchecked:   neither, and one of them is not in the file (or both are the same class).
//
// Thread-safety: parse() before sharing; check() is thread-safe (verdicts are memoized under an
// internal std::mutex) and allocates, so it runs only on the detector's slow path.
#ifndef LOCKGRAPH_DETECTOR_GRAPH_DECLARED_ORDER_HPP
#define LOCKGRAPH_DETECTOR_GRAPH_DECLARED_ORDER_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace lockgraph::detail {

class declared_order {
 public:
  enum class verdict : std::uint8_t { unchecked, allowed, contradicts, undeclared };

  struct result {
    verdict v = verdict::unchecked;
    // The rules that decide it, as "FILE:LINE: text" (for allowed and contradicts: the chain of rules
    // or the two level lines).
    std::vector<std::string> rules;
  };

  declared_order();
  ~declared_order();
  declared_order(const declared_order&) = delete;
  declared_order& operator=(const declared_order&) = delete;

  // Adds the rules of `text`, read from `origin` (a path, shown in messages). Returns "" or one line
  // "ORIGIN:LINE: what is wrong (accepted: ...)"; on error nothing of `text` is kept.
  std::string parse(std::string_view text, std::string_view origin);

  bool empty() const noexcept;
  std::size_t rule_count() const noexcept;  // arrows (each step of a chain) plus level globs

  // The verdict for acquiring `taken` while holding `held`. `strict` turns "both in the file, no
  // order between them" into undeclared (else unchecked).
  result check(std::string_view held, std::string_view taken, bool strict) const;

  // A declaration file with one "A -> B" line per edge, sorted, under `header` (each of its lines
  // written as a comment): what lockgraph-merge --write-order writes. Names are written so that they
  // match themselves: a wildcard or '#' or '>' inside a name is written as '?'.
  static std::string format(std::vector<std::pair<std::string, std::string>> edges, std::string_view header);

 private:
  struct rules;
  std::unique_ptr<rules> rules_;
  mutable std::mutex memo_mu_;
  mutable std::unordered_map<std::string, result> memo_;
};

}  // namespace lockgraph::detail

#endif  // LOCKGRAPH_DETECTOR_GRAPH_DECLARED_ORDER_HPP
