// tests/report_format_test.cpp: golden tests for to_text(), to_json() and to_dot(), and the escaping
// helpers behind them (detector/report/text_report.cpp, json_writer.cpp, dot_writer.cpp).
//
// The sample reports have empty stacks so the goldens do not depend on the symbolizer; the tests that
// need frames build the expected text from stack_trace::to_string() itself.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/dot_writer.hpp"
#include "lockgraph/report.hpp"

#ifdef LOCKGRAPH_FORMAT_TEST_STUBS
// For building this file with the formatters alone, without detector/base/stack_trace.cpp.
std::string lockgraph::stack_trace::to_string(std::string_view indent) const {
  std::string out;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    out += std::string(indent) + "#" + std::to_string(i) + " frame " + std::to_string(frames[i]) + "\n";
  }
  return out;
}
#endif

namespace lockgraph {
namespace {

// ---- building reports --------------------------------------------------------------------------

// Every label the sample reports use, so the same reports can be rendered with nasty labels.
struct labels {
  std::string a = "cache_mu";
  std::string b = "sched_mu";
  std::string c = "log_mu";
  std::string w1 = "worker-1";
  std::string w2 = "worker-2";
};

// Quotes, backslash, newline, tab, a control character, non-ASCII and an ill-formed byte.
constexpr std::string_view kNasty = "q\"b\\n\nt\tc\x01u\xC3\xBC\xFF";

labels nasty_labels() {
  const std::string n(kNasty);
  return {n + "a", n + "b", n + "c", n + "w1", n + "w2"};
}

thread_ref thread(std::uint64_t id, std::string name = {}) { return {id, std::move(name)}; }

held_lock held(std::string lock, bool shared = false, bool try_acquired = false) {
  return {std::move(lock), shared, try_acquired, {}};
}

lock_edge edge(std::string from, std::string to, thread_ref by, bool from_shared = false,
               bool to_shared = false) {
  return {std::move(from), std::move(to), from_shared, to_shared, std::move(by), {}, {}, {}, {}};
}

thread_state state(thread_ref t, std::string waits_for, bool shared, std::uint64_t waited_ms,
                   std::vector<held_lock> holds) {
  return {std::move(t), std::move(waits_for), shared, waited_ms, std::move(holds), {}};
}

stack_trace frames(std::vector<std::uintptr_t> addresses) { return {std::move(addresses)}; }

report make_report(report_kind kind, std::vector<std::string> locks) {
  report r;
  r.kind = kind;
  r.locks = std::move(locks);
  r.sequence = 1;
  return r;
}

// Cycle: cache_mu -> sched_mu -> cache_mu, by two threads (the classic ABBA).
report inversion(const labels& l = {}) {
  report r = make_report(report_kind::lock_order_inversion, {l.a, l.b});
  r.edges = {edge(l.a, l.b, thread(1, l.w1)), edge(l.b, l.a, thread(2, l.w2))};
  r.thread = thread(2, l.w2);
  r.held = {held(l.b)};
  r.summary = "lock-order inversion: " + l.a + " => " + l.b + " => " + l.a;
  r.files = {"/tmp/r/lockgraph-1234-0001.json", "/tmp/r/lockgraph-1234-0001.dot"};
  return r;
}

// Cycle: a -> b -> c -> a with shared modes, three threads.
report three_lock_inversion(const labels& l = {}) {
  report r = make_report(report_kind::lock_order_inversion, {l.a, l.b, l.c});
  r.edges = {edge(l.a, l.b, thread(1)), edge(l.b, l.c, thread(2), false, true),
             edge(l.c, l.a, thread(3), true, false)};
  r.thread = thread(3);
  return r;
}

// T1 holds cache_mu and log_mu and waits for sched_mu; T2 holds sched_mu shared and waits for cache_mu.
report deadlock(const labels& l = {}) {
  report r = make_report(report_kind::deadlock, {l.b, l.a});
  r.threads = {state(thread(1, l.w1), l.b, false, 12, {held(l.a), held(l.c)}),
               state(thread(2), l.a, true, 7, {held(l.b, true)})};
  r.thread = thread(2);
  return r;
}

// The main thread locks cache_mu a second time.
report self_deadlock(const labels& l = {}) {
  report r = make_report(report_kind::self_deadlock, {l.a});
  r.held = {held(l.c), held(l.a)};
  return r;
}

// T4 exits holding cache_mu and sched_mu (the latter shared, by try_lock_shared).
report unreleased(const labels& l = {}) {
  report r = make_report(report_kind::unreleased_lock, {l.a, l.b});
  r.threads = {state(thread(4, l.w1), "", false, 0, {held(l.a), held(l.b, true, true)})};
  r.thread = thread(4, l.w1);
  return r;
}

// T2 unlocks cache_mu while holding only log_mu.
report bad_unlock(const labels& l = {}) {
  report r = make_report(report_kind::bad_unlock, {l.a});
  r.thread = thread(2, l.w2);
  r.held = {held(l.c)};
  return r;
}

// T1 has waited 5003 ms for cache_mu, which T2 holds while running.
report long_wait(const labels& l = {}) {
  report r = make_report(report_kind::long_wait, {l.a});
  r.threads = {state(thread(1, l.w1), l.a, false, 5003, {}),
               state(thread(2, l.w2), "", false, 0, {held(l.a)})};
  r.thread = thread(1, l.w1);
  return r;
}

std::vector<report> every_kind(const labels& l) {
  return {inversion(l),  three_lock_inversion(l), deadlock(l), self_deadlock(l),
          unreleased(l), bad_unlock(l),           long_wait(l)};
}

// ---- reading results ---------------------------------------------------------------------------

// A golden written as a raw string literal that starts on the line after R"( for readability.
std::string golden(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return std::string(text);
}

// What to_text() prints for a non-empty stack at `indent`.
std::string stack_text(const stack_trace& stack, std::string_view indent) {
  std::string text = stack.to_string(indent);
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

std::size_t count(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The first line of `text` that starts with `prefix`, without its newline; "" if there is none.
std::string line_starting_with(std::string_view text, std::string_view prefix) {
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    if (text.substr(0, end).starts_with(prefix)) return std::string(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return {};
}

// Runs `dot -Tsvg` on `dot_text`; returns its exit status and everything it printed.
std::pair<int, std::string> run_dot(const std::string& dot_text) {
  std::string path = ::testing::TempDir() + "lockgraph_format_test_XXXXXX.dot";
  const int fd = mkstemps(path.data(), 4);
  if (fd < 0) return {-1, "mkstemps failed"};
  const bool written = write(fd, dot_text.data(), dot_text.size()) == static_cast<ssize_t>(dot_text.size());
  close(fd);
  std::string output;
  int status = -1;
  if (written) {
    const std::string command = "dot -Tsvg -o /dev/null " + path + " 2>&1";
    if (FILE* pipe = popen(command.c_str(), "r")) {
      char buf[256];
      for (std::size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) output.append(buf, n);
      status = pclose(pipe);
    }
  }
  unlink(path.c_str());
  return {status == -1 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status), output};
}

// ---- text --------------------------------------------------------------------------------------

TEST(ReportFormat, TextLockOrderInversionShowsTwoColumnScenario) {
  EXPECT_EQ(to_text(inversion()), golden(R"(
==================
lockgraph: lock-order-inversion (potential deadlock)
  Cycle in lock order graph: cache_mu => sched_mu => cache_mu

  sched_mu acquired while holding cache_mu in thread T1 (worker-1):
    <no stack>
  cache_mu acquired while holding sched_mu in thread T2 (worker-2):
    <no stack>

  Possible unsafe locking scenario:

         T1                    T2
         ----                  ----
    lock(cache_mu);
                               lock(sched_mu);
                               lock(cache_mu);
    lock(sched_mu);

   *** DEADLOCK ***

  Files: /tmp/r/lockgraph-1234-0001.json, /tmp/r/lockgraph-1234-0001.dot
==================
)"));
}

// Both orders taken by one thread (a single-threaded test): the columns carry the same name, so the text
// says that the deadlock needs threads running that code at once, not this thread alone.
TEST(ReportFormat, TextInversionOfOneThreadSaysItNeedsTwo) {
  report r = inversion();
  r.edges[1].thread = r.edges[0].thread;
  const std::string text = to_text(r);
  EXPECT_NE(text.find(R"(
         T1                    T1
         ----                  ----
    lock(cache_mu);
                               lock(sched_mu);
                               lock(cache_mu);
    lock(sched_mu);

  T1 took every order above, one after another: alone it cannot deadlock, but threads
  running this code at the same time can.

   *** DEADLOCK ***
)"), std::string::npos) << text;
  EXPECT_EQ(count(to_text(inversion()), "one after another"), 0u);
  EXPECT_EQ(count(to_text(three_lock_inversion()), "one after another"), 0u);
  // A suite report (lockgraph-merge): T1 of two processes is not one thread.
  r.edges[0].seen_in = "test A.B, pid 41: ./tests";
  r.edges[1].seen_in = "test C.D, pid 42: ./tests";
  const std::string suite = to_text(r);
  EXPECT_EQ(count(suite, "one after another"), 0u) << suite;
  EXPECT_EQ(count(suite, "taken in different processes"), 1u) << suite;
}

TEST(ReportFormat, TextLongerCycleListsEachThreadsTwoLocks) {
  EXPECT_EQ(to_text(three_lock_inversion()), golden(R"(
==================
lockgraph: lock-order-inversion (potential deadlock)
  Cycle in lock order graph: cache_mu => sched_mu => log_mu => cache_mu

  sched_mu acquired while holding cache_mu in thread T1:
    <no stack>
  log_mu (shared) acquired while holding sched_mu in thread T2:
    <no stack>
  cache_mu acquired while holding log_mu (shared) in thread T3:
    <no stack>

  Possible unsafe locking scenario (each thread takes its first lock, then blocks on its second):

    T1: lock(cache_mu); lock(sched_mu);
    T2: lock(sched_mu); lock_shared(log_mu);
    T3: lock_shared(log_mu); lock(cache_mu);

   *** DEADLOCK ***
==================
)"));
}

TEST(ReportFormat, TextDeadlock) {
  EXPECT_EQ(to_text(deadlock()), golden(R"(
==================
lockgraph: deadlock (threads blocked in a circular wait)
  Thread T1 (worker-1) waits for lock sched_mu (exclusive), held by thread T2
    holds cache_mu (exclusive)
    holds log_mu (exclusive)
    blocked at:
      <no stack>

  Thread T2 waits for lock cache_mu (shared), held by thread T1 (worker-1)
    holds sched_mu (shared)
    blocked at:
      <no stack>

  Cycle in wait-for graph: T1 -> sched_mu -> T2 -> cache_mu -> T1
==================
)"));
}

TEST(ReportFormat, TextSelfDeadlock) {
  EXPECT_EQ(to_text(self_deadlock()), golden(R"(
==================
lockgraph: self-deadlock: thread T0 blocks on lock cache_mu it already holds
  Thread T0:
    holds log_mu (exclusive)
    holds cache_mu (exclusive)
    blocked at:
      <no stack>
==================
)"));
}

TEST(ReportFormat, TextUnreleasedLock) {
  EXPECT_EQ(to_text(unreleased()), golden(R"(
==================
lockgraph: unreleased lock: thread T4 (worker-1) still holds 2 locks
  Thread T4 (worker-1):
    holds cache_mu (exclusive)
    holds sched_mu (shared, try-lock)

  Detected in thread T4 (worker-1) at:
    <no stack>
==================
)"));
}

TEST(ReportFormat, TextUnreleasedSingleLockNamesItInTheTitle) {
  report r = unreleased();
  r.locks = {"cache_mu"};
  EXPECT_EQ(line_starting_with(to_text(r), "lockgraph:"),
            "lockgraph: unreleased lock: thread T4 (worker-1) still holds lock cache_mu");
}

TEST(ReportFormat, TextBadUnlock) {
  EXPECT_EQ(to_text(bad_unlock()), golden(R"(
==================
lockgraph: bad unlock: thread T2 (worker-2) unlocks lock cache_mu, which it does not hold
  Thread T2 (worker-2):
    holds log_mu (exclusive)
    unlocked at:
      <no stack>
==================
)"));
}

TEST(ReportFormat, TextLongWait) {
  EXPECT_EQ(to_text(long_wait()), golden(R"(
==================
lockgraph: long wait: thread T1 (worker-1) has waited 5003 ms for cache_mu
  Thread T1 (worker-1) has waited 5003 ms for cache_mu (exclusive), held by thread T2 (worker-2)
    holds no locks
    blocked at:
      <no stack>

  Thread T2 (worker-2) is not blocked on a lock:
    holds cache_mu (exclusive)
==================
)"));
}

TEST(ReportFormat, TextPrintsStacksThroughToString) {
  report r = self_deadlock();
  r.held[1].stack = frames({0x1000});
  r.stack = frames({0x2000, 0x3000});
  const std::string expected = "    holds cache_mu (exclusive), acquired at:\n" +
                               stack_text(r.held[1].stack, "      ") + "    blocked at:\n" +
                               stack_text(r.stack, "      ");
  EXPECT_NE(to_text(r).find(expected), std::string::npos) << to_text(r);
}

TEST(ReportFormat, TextStartsAndEndsWithARuler) {
  for (const report& r : every_kind(labels{})) {
    const std::string text = to_text(r);
    EXPECT_TRUE(text.starts_with("==================\nlockgraph: ")) << text;
    EXPECT_TRUE(text.ends_with("\n==================\n")) << text;
  }
}

TEST(ReportFormat, TextHasFilesLineOnlyWhenFilesWereWritten) {
  report r = inversion();
  EXPECT_EQ(count(to_text(r), "  Files: "), 1u);
  r.files.clear();
  EXPECT_EQ(count(to_text(r), "Files:"), 0u);
}

// Cycle: m0 -> m1 -> ... -> m19 -> m0, each edge by its own thread.
TEST(ReportFormat, TextTruncatesInversionAfterSixteenEdges) {
  report r = make_report(report_kind::lock_order_inversion, {});
  for (int i = 0; i < 20; ++i) r.locks.push_back("m" + std::to_string(i));
  for (int i = 0; i < 20; ++i) r.edges.push_back(edge(r.locks[i], r.locks[(i + 1) % 20], thread(i + 1)));
  const std::string text = to_text(r);
  EXPECT_EQ(line_starting_with(text, "  Cycle"),
            "  Cycle in lock order graph: m0 => m1 => m2 => m3 => m4 => m5 => m6 => m7 => m8 => m9 => m10 => "
            "m11 => m12 => m13 => m14 => m15 => ... => m0 (4 more locks, cycle truncated)");
  EXPECT_EQ(count(text, " acquired while holding "), 16u);
  EXPECT_EQ(count(text, "\n  ... 4 more edges not shown (cycle truncated)\n"), 1u);
  EXPECT_EQ(
      count(text, "\n    T16: lock(m15); lock(m16);\n    ... 4 more threads not shown (cycle truncated)\n"),
      1u);
}

// Cycle: T1 -> d0 -> T2 -> d1 -> ... -> T20 -> d19 -> T1.
TEST(ReportFormat, TextTruncatesDeadlockAfterSixteenThreads) {
  report r = make_report(report_kind::deadlock, {});
  for (int i = 0; i < 20; ++i) {
    r.locks.push_back("d" + std::to_string(i));
    r.threads.push_back(state(thread(i + 1), r.locks.back(), false, 0, {}));
  }
  const std::string text = to_text(r);
  EXPECT_EQ(count(text, "  Thread T"), 16u);
  EXPECT_EQ(count(text, "\n  ... 4 more threads not shown (cycle truncated)\n"), 1u);
  EXPECT_TRUE(line_starting_with(text, "  Cycle").ends_with("T16 -> d15 -> ... -> T1")) << text;
}

// ---- JSON --------------------------------------------------------------------------------------

TEST(ReportFormat, JsonLockOrderInversion) {
  EXPECT_EQ(to_json(inversion()), golden(R"(
{
  "kind": "lock_order_inversion",
  "sequence": 1,
  "summary": "lock-order inversion: cache_mu => sched_mu => cache_mu",
  "locks": [
    "cache_mu",
    "sched_mu"
  ],
  "scope": "instance",
  "classes": [],
  "edges": [
    {
      "from": "cache_mu",
      "to": "sched_mu",
      "from_shared": false,
      "to_shared": false,
      "thread": {"id": 1, "name": "worker-1"},
      "stack": []
    },
    {
      "from": "sched_mu",
      "to": "cache_mu",
      "from_shared": false,
      "to_shared": false,
      "thread": {"id": 2, "name": "worker-2"},
      "stack": []
    }
  ],
  "threads": [],
  "thread": {"id": 2, "name": "worker-2"},
  "held": [
    {
      "lock": "sched_mu",
      "shared": false,
      "try_acquired": false,
      "stack": []
    }
  ],
  "stack": [],
  "files": [
    "/tmp/r/lockgraph-1234-0001.json",
    "/tmp/r/lockgraph-1234-0001.dot"
  ],
  "fingerprint": "",
  "occurrences": 1
}
)"));
}

TEST(ReportFormat, JsonDeadlock) {
  EXPECT_EQ(to_json(deadlock()), golden(R"(
{
  "kind": "deadlock",
  "sequence": 1,
  "summary": "",
  "locks": [
    "sched_mu",
    "cache_mu"
  ],
  "scope": "instance",
  "classes": [],
  "edges": [],
  "threads": [
    {
      "thread": {"id": 1, "name": "worker-1"},
      "waits_for": "sched_mu",
      "waits_shared": false,
      "waited_ms": 12,
      "exited": false,
      "holds": [
        {
          "lock": "cache_mu",
          "shared": false,
          "try_acquired": false,
          "stack": []
        },
        {
          "lock": "log_mu",
          "shared": false,
          "try_acquired": false,
          "stack": []
        }
      ],
      "stack": []
    },
    {
      "thread": {"id": 2, "name": ""},
      "waits_for": "cache_mu",
      "waits_shared": true,
      "waited_ms": 7,
      "exited": false,
      "holds": [
        {
          "lock": "sched_mu",
          "shared": true,
          "try_acquired": false,
          "stack": []
        }
      ],
      "stack": []
    }
  ],
  "thread": {"id": 2, "name": ""},
  "held": [],
  "stack": [],
  "files": [],
  "fingerprint": "",
  "occurrences": 1
}
)"));
}

TEST(ReportFormat, JsonSelfDeadlock) {
  EXPECT_EQ(to_json(self_deadlock()), golden(R"(
{
  "kind": "self_deadlock",
  "sequence": 1,
  "summary": "",
  "locks": [
    "cache_mu"
  ],
  "scope": "instance",
  "classes": [],
  "edges": [],
  "threads": [],
  "thread": {"id": 0, "name": ""},
  "held": [
    {
      "lock": "log_mu",
      "shared": false,
      "try_acquired": false,
      "stack": []
    },
    {
      "lock": "cache_mu",
      "shared": false,
      "try_acquired": false,
      "stack": []
    }
  ],
  "stack": [],
  "files": [],
  "fingerprint": "",
  "occurrences": 1
}
)"));
}

TEST(ReportFormat, JsonUnreleasedLock) {
  EXPECT_EQ(to_json(unreleased()), golden(R"(
{
  "kind": "unreleased_lock",
  "sequence": 1,
  "summary": "",
  "locks": [
    "cache_mu",
    "sched_mu"
  ],
  "scope": "instance",
  "classes": [],
  "edges": [],
  "threads": [
    {
      "thread": {"id": 4, "name": "worker-1"},
      "waits_for": "",
      "waits_shared": false,
      "waited_ms": 0,
      "exited": false,
      "holds": [
        {
          "lock": "cache_mu",
          "shared": false,
          "try_acquired": false,
          "stack": []
        },
        {
          "lock": "sched_mu",
          "shared": true,
          "try_acquired": true,
          "stack": []
        }
      ],
      "stack": []
    }
  ],
  "thread": {"id": 4, "name": "worker-1"},
  "held": [],
  "stack": [],
  "files": [],
  "fingerprint": "",
  "occurrences": 1
}
)"));
}

TEST(ReportFormat, JsonBadUnlock) {
  EXPECT_EQ(to_json(bad_unlock()), golden(R"(
{
  "kind": "bad_unlock",
  "sequence": 1,
  "summary": "",
  "locks": [
    "cache_mu"
  ],
  "scope": "instance",
  "classes": [],
  "edges": [],
  "threads": [],
  "thread": {"id": 2, "name": "worker-2"},
  "held": [
    {
      "lock": "log_mu",
      "shared": false,
      "try_acquired": false,
      "stack": []
    }
  ],
  "stack": [],
  "files": [],
  "fingerprint": "",
  "occurrences": 1
}
)"));
}

TEST(ReportFormat, JsonLongWait) {
  EXPECT_EQ(to_json(long_wait()), golden(R"(
{
  "kind": "long_wait",
  "sequence": 1,
  "summary": "",
  "locks": [
    "cache_mu"
  ],
  "scope": "instance",
  "classes": [],
  "edges": [],
  "threads": [
    {
      "thread": {"id": 1, "name": "worker-1"},
      "waits_for": "cache_mu",
      "waits_shared": false,
      "waited_ms": 5003,
      "exited": false,
      "holds": [],
      "stack": []
    },
    {
      "thread": {"id": 2, "name": "worker-2"},
      "waits_for": "",
      "waits_shared": false,
      "waited_ms": 0,
      "exited": false,
      "holds": [
        {
          "lock": "cache_mu",
          "shared": false,
          "try_acquired": false,
          "stack": []
        }
      ],
      "stack": []
    }
  ],
  "thread": {"id": 1, "name": "worker-1"},
  "held": [],
  "stack": [],
  "files": [],
  "fingerprint": "",
  "occurrences": 1
}
)"));
}

TEST(ReportFormat, JsonWritesRawFramesAsHexStrings) {
  report r = bad_unlock();
  r.stack = frames({0x401000, 0xDEADBEEF, 0, UINTPTR_MAX});
  EXPECT_EQ(line_starting_with(to_json(r), "  \"stack\""),
            R"(  "stack": ["0x401000", "0xdeadbeef", "0x0", "0xffffffffffffffff"],)");
}

TEST(ReportFormat, JsonEscapesNastyLabels) {
  report r = make_report(report_kind::self_deadlock, {std::string(kNasty)});
  // Backslash-n stays two characters; the newline, tab and \x01 are escaped; the \xFF becomes \ufffd.
  const std::string expected = R"(    "q\"b\\n\nt\tc\u0001u)" "\xC3\xBC" R"(\ufffd")";
  EXPECT_EQ(line_starting_with(to_json(r), "    \""), expected);
}

TEST(ReportFormat, JsonEscapesEveryControlCharacter) {
  report r = make_report(report_kind::self_deadlock, {std::string("\b\f\r\x1F\x7F", 5)});
  EXPECT_EQ(line_starting_with(to_json(r), "    \""), "    \"\\b\\f\\r\\u001f\x7F\"");
}

// Each byte of an ill-formed sequence becomes one U+FFFD; well-formed 2-, 3- and 4-byte text stays.
TEST(ReportFormat, JsonReplacesEachIllFormedUtf8Byte) {
  const auto json_label = [](std::string label) {
    return line_starting_with(to_json(make_report(report_kind::self_deadlock, {std::move(label)})), "    \"");
  };
  EXPECT_EQ(json_label("\xC3\xBC\xE2\x82\xAC\xF0\x9F\x94\x92"),
            "    \"\xC3\xBC\xE2\x82\xAC\xF0\x9F\x94\x92\"");
  EXPECT_EQ(json_label("\xC0\xAF"), R"(    "\ufffd\ufffd")");                      // overlong '/'
  EXPECT_EQ(json_label("\xED\xA0\x80"), R"(    "\ufffd\ufffd\ufffd")");            // UTF-16 surrogate
  EXPECT_EQ(json_label("\xF4\x90\x80\x80"), R"(    "\ufffd\ufffd\ufffd\ufffd")");  // past U+10FFFF
  EXPECT_EQ(json_label("a\xE2\x82"), R"(    "a\ufffd\ufffd")");                    // truncated at the end
  EXPECT_EQ(json_label("\x80z"), R"(    "\ufffdz")");                              // stray continuation byte
}

// ---- DOT ---------------------------------------------------------------------------------------

TEST(ReportFormat, DotLockOrderInversion) {
  EXPECT_EQ(to_dot(inversion()), golden(R"dot(
digraph lockgraph {
  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label="lockgraph: lock-order-inversion (potential deadlock)"];
  node [fontname="Helvetica"];
  edge [fontname="Helvetica"];
  l0 [label="cache_mu", shape=box];
  l1 [label="sched_mu", shape=box];
  l0 -> l1 [label="T1 (worker-1)\nexclusive", color=red, penwidth=2];
  l1 -> l0 [label="T2 (worker-2)\nexclusive", color=red, penwidth=2];
}
)dot"));
}

TEST(ReportFormat, DotDeadlock) {
  EXPECT_EQ(to_dot(deadlock()), golden(R"dot(
digraph lockgraph {
  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label="lockgraph: deadlock (threads blocked in a circular wait)"];
  node [fontname="Helvetica"];
  edge [fontname="Helvetica"];
  t1 [label="T1 (worker-1)", shape=ellipse];
  l0 [label="sched_mu", shape=box];
  t2 [label="T2", shape=ellipse];
  l1 [label="cache_mu", shape=box];
  t1 -> l0 [label="waits for", color=red, penwidth=2];
  l0 -> t2 [label="held by (shared)", color=red, penwidth=2];
  t2 -> l1 [label="waits for (shared)", color=red, penwidth=2];
  l1 -> t1 [label="held by", color=red, penwidth=2];
  l2 [label="log_mu", shape=box];
  l2 -> t1 [label="held by"];
}
)dot"));
}

TEST(ReportFormat, DotSelfDeadlock) {
  EXPECT_EQ(to_dot(self_deadlock()), golden(R"dot(
digraph lockgraph {
  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label="lockgraph: self-deadlock"];
  node [fontname="Helvetica"];
  edge [fontname="Helvetica"];
  t0 [label="T0", shape=ellipse];
  l0 [label="cache_mu", shape=box];
  l0 -> t0 [label="held by", color=red, penwidth=2];
  t0 -> l0 [label="waits for", color=red, penwidth=2];
  l1 [label="log_mu", shape=box];
  l1 -> t0 [label="held by"];
}
)dot"));
}

TEST(ReportFormat, DotUnreleasedLock) {
  EXPECT_EQ(to_dot(unreleased()), golden(R"dot(
digraph lockgraph {
  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label="lockgraph: unreleased lock"];
  node [fontname="Helvetica"];
  edge [fontname="Helvetica"];
  t4 [label="T4 (worker-1)", shape=ellipse];
  l0 [label="cache_mu", shape=box, style=filled, fillcolor=orange];
  l0 -> t4 [label="held by"];
  l1 [label="sched_mu", shape=box, style=filled, fillcolor=orange];
  l1 -> t4 [label="held by (shared)"];
}
)dot"));
}

TEST(ReportFormat, DotBadUnlock) {
  EXPECT_EQ(to_dot(bad_unlock()), golden(R"dot(
digraph lockgraph {
  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label="lockgraph: bad unlock"];
  node [fontname="Helvetica"];
  edge [fontname="Helvetica"];
  t2 [label="T2 (worker-2)", shape=ellipse];
  l0 [label="cache_mu", shape=box, style=dashed, color=red];
  t2 -> l0 [label="unlocks (not held)", color=red, penwidth=2, style=dashed];
  l1 [label="log_mu", shape=box];
  l1 -> t2 [label="held by"];
}
)dot"));
}

TEST(ReportFormat, DotLongWait) {
  EXPECT_EQ(to_dot(long_wait()), golden(R"dot(
digraph lockgraph {
  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label="lockgraph: long wait"];
  node [fontname="Helvetica"];
  edge [fontname="Helvetica"];
  l0 [label="cache_mu", shape=box];
  t1 [label="T1 (worker-1)", shape=ellipse];
  t1 -> l0 [label="waits for\n5003 ms", color=orange, penwidth=2];
  t2 [label="T2 (worker-2)", shape=ellipse];
  l0 -> t2 [label="held by"];
}
)dot"));
}

TEST(ReportFormat, DotEscapeHandlesNastyLabels) {
  // The tab and \x01 are shown as an escaped backslash and xHH (issue 9, item 13: shown, not dropped);
  // the backslash-n stays two characters, the newline becomes \n.
  const std::string expected = R"(q\"b\\n\nt\\x09c\\x01u)" "\xC3\xBC\xEF\xBF\xBD";
  EXPECT_EQ(detail::dot_escape(kNasty), expected);
  EXPECT_EQ(detail::dot_escape("\xED\xA0\x80\x7F"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\\\\x7f");
  EXPECT_EQ(detail::dot_escape("trailing\\"), R"(trailing\\)");
}

TEST(ReportFormat, DotUsesGeneratedNodeIdsNotLabels) {
  const labels nasty = nasty_labels();
  const std::string dot = to_dot(inversion(nasty));
  const std::string lock_label = detail::dot_escape(nasty.a);
  const std::string thread_label = detail::dot_escape(nasty.w1);
  EXPECT_EQ(line_starting_with(dot, "  l0 "), "  l0 [label=\"" + lock_label + "\", shape=box];");
  EXPECT_EQ(line_starting_with(dot, "  l0 ->"),
            "  l0 -> l1 [label=\"T1 (" + thread_label + ")\\nexclusive\", color=red, penwidth=2];");
}

TEST(ReportFormat, DotBuilderWritesStatementsInOrder) {
  detail::dot_builder dot("title \"x\"");
  dot.add_node("n0", "a");
  dot.add_node("n1", "b", "shape=box");
  dot.add_edge("n0", "n1", "a\nb", "style=dashed");
  EXPECT_EQ(std::move(dot).finish(), golden(R"dot(
digraph lockgraph {
  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label="title \"x\""];
  node [fontname="Helvetica"];
  edge [fontname="Helvetica"];
  n0 [label="a"];
  n1 [label="b", shape=box];
  n0 -> n1 [label="a\nb", style=dashed];
}
)dot"));
}

TEST(ReportFormat, DotOutputPassesGraphvizWithoutWarnings) {
  if (std::system("command -v dot > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "graphviz 'dot' is not installed (the scripts install it)";
  }
  for (const labels& l : {labels{}, nasty_labels()}) {
    for (const report& r : every_kind(l)) {
      const std::string dot = to_dot(r);
      const auto [status, output] = run_dot(dot);
      EXPECT_EQ(status, 0) << dot;
      EXPECT_EQ(output, "") << dot;
    }
  }
}

}  // namespace
}  // namespace lockgraph
