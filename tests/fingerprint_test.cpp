// Fingerprints and occurrences (suite Fingerprint): one report per bug, however many lock instances
// it spans; the same bug has the same fingerprint in every run.
#include <gtest/gtest.h>

#include <latch>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "lockgraph/lockgraph.hpp"
#include "report/fingerprint.hpp"
#include "support/subprocess.hpp"
#include "support/text.hpp"

namespace {

using namespace std::chrono_literals;
using lgtest::contains;
using lockgraph::detail::class_key;
using lockgraph::detail::fingerprint_of;

using lgtest::env_with;

// A cycle as a report value: locks[i] -> locks[i + 1], no stacks.
lockgraph::report cycle(std::vector<std::string> locks) {
  lockgraph::report r;
  r.kind = lockgraph::report_kind::lock_order_inversion;
  for (std::size_t i = 0; i < locks.size(); ++i) {
    lockgraph::lock_edge e;
    e.from = locks[i];
    e.to = locks[(i + 1) % locks.size()];
    e.thread.id = i + 1;
    r.edges.push_back(e);
  }
  r.locks = std::move(locks);
  return r;
}

TEST(Fingerprint, ClassKeyDropsAddressesAndInstanceNumbers) {
  EXPECT_EQ(class_key("account 17"), "account #");
  EXPECT_EQ(class_key("shard[3]"), "shard[#]");
  EXPECT_EQ(class_key("conn 0x7ffd12ab34 lock"), "conn 0x# lock");
  EXPECT_EQ(class_key("cache_mu"), "cache_mu");
  EXPECT_EQ(class_key("inv0.a"), "inv0.a");           // an inner number names the lock, not an instance
  EXPECT_EQ(class_key("bank.cpp:27"), "bank.cpp:27");  // a construction site is the class itself
  EXPECT_EQ(class_key("registry-inl.h:35[1]"), "registry-inl.h:35[1]");  // a member rank: a class too
  EXPECT_EQ(class_key("v2"), "v#");
}

TEST(Fingerprint, IsSixteenHexDigits) {
  EXPECT_TRUE(std::regex_match(fingerprint_of(cycle({"a", "b"})), std::regex("[0-9a-f]{16}")));
}

// Cycle a -> b -> c -> a closed at another edge is reported as b -> c -> a -> b: the same bug.
TEST(Fingerprint, SameCycleFromAnotherEdgeIsTheSame) {
  EXPECT_EQ(fingerprint_of(cycle({"a", "b", "c"})), fingerprint_of(cycle({"b", "c", "a"})));
  EXPECT_EQ(fingerprint_of(cycle({"a", "b", "c"})), fingerprint_of(cycle({"c", "a", "b"})));
  EXPECT_NE(fingerprint_of(cycle({"a", "b", "c"})), fingerprint_of(cycle({"a", "c", "b"})));
}

// Thread ids, instance numbers and the number of instances in a cycle of one class do not count;
// the kind and the classes do.
TEST(Fingerprint, IgnoresThreadsInstancesAndCountsButNotKindOrClass) {
  lockgraph::report r = cycle({"account 1", "account 2"});
  lockgraph::report other_threads = cycle({"account 7", "account 8"});
  for (auto& e : other_threads.edges) e.thread.id += 40;
  EXPECT_EQ(fingerprint_of(r), fingerprint_of(other_threads));
  EXPECT_EQ(fingerprint_of(r), fingerprint_of(cycle({"account 1", "account 2", "account 3"})));
  EXPECT_NE(fingerprint_of(r), fingerprint_of(cycle({"ledger 1", "account 2"})));
  lockgraph::report deadlock = r;
  deadlock.kind = lockgraph::report_kind::deadlock;
  EXPECT_NE(fingerprint_of(r), fingerprint_of(deadlock));
}

struct account {
  explicit account(const std::string& name) : mu(name) {}
  lockgraph::mutex mu;
  long balance = 100;
};

__attribute__((noinline)) void transfer(account& from, account& to, long amount) {
  std::lock_guard<lockgraph::mutex> lock_from(from.mu);
  std::lock_guard<lockgraph::mutex> lock_to(to.mu);
  from.balance -= amount;
  to.balance += amount;
}

// The issue's example: one buggy transfer() over 50 account pairs, each pair's inversion closed on
// a thread of its own, is one report with 50 occurrences, in reports() and in its JSON.
TEST(Fingerprint, FiftyAccountPairsAreOneReportWithFiftyOccurrences) {
  const std::size_t before = lockgraph::reports().size();
  std::vector<std::unique_ptr<account>> accounts;
  for (int i = 0; i < 100; ++i) accounts.push_back(std::make_unique<account>("fp-account " + std::to_string(i)));
  for (int i = 0; i < 50; ++i) {
    account& a = *accounts[2 * i];
    account& b = *accounts[2 * i + 1];
    std::thread forward([&] { transfer(a, b, 1); });
    forward.join();
    std::thread backward([&] { transfer(b, a, 1); });
    backward.join();
  }
  const std::vector<lockgraph::report> all = lockgraph::reports();
  ASSERT_EQ(all.size(), before + 1);
  const lockgraph::report& r = all.back();
  EXPECT_EQ(r.kind, lockgraph::report_kind::lock_order_inversion);
  EXPECT_EQ(r.occurrences, 50u);
  EXPECT_EQ(r.fingerprint, fingerprint_of(r));
  const std::string json = lockgraph::to_json(r);
  EXPECT_TRUE(contains(json, "\"fingerprint\": \"" + r.fingerprint + "\"")) << json;
  EXPECT_TRUE(contains(json, "\"occurrences\": 50")) << json;
  EXPECT_TRUE(contains(lockgraph::to_text(r), "Fingerprint: " + r.fingerprint)) << lockgraph::to_text(r);
}

__attribute__((noinline)) void nest(lockgraph::mutex& outer, lockgraph::mutex& inner) {
  std::lock_guard<lockgraph::mutex> g1(outer);
  std::lock_guard<lockgraph::mutex> g2(inner);
}

// Cycle a -> b -> c -> a over two sets of locks of the same classes: the first closed by c -> a, the
// second by a -> b (the report lists its locks from another place). One bug: one report, two
// occurrences.
TEST(Fingerprint, SameCycleClosedFromAnotherEdgeIsAnotherOccurrence) {
  const std::size_t before = lockgraph::reports().size();
  lockgraph::mutex a1("rot a 1"), b1("rot b 1"), c1("rot c 1");
  lockgraph::mutex a2("rot a 2"), b2("rot b 2"), c2("rot c 2");
  std::thread([&] {
    nest(a1, b1);
    nest(b1, c1);
    nest(c1, a1);
  }).join();
  std::thread([&] {
    nest(b2, c2);
    nest(c2, a2);
    nest(a2, b2);
  }).join();
  const std::vector<lockgraph::report> all = lockgraph::reports();
  ASSERT_EQ(all.size(), before + 1);
  EXPECT_EQ(all.back().occurrences, 2u);
  // The report shows the first occurrence's locks.
  for (const std::string& l : all.back().locks) EXPECT_EQ(l.back(), '1') << l;
}

struct transfer_run {
  lgtest::run_result result;
  std::string fingerprint;
  std::string json;  // the one JSON file written
};

transfer_run run_transfers(const std::vector<std::string>& args, const lgtest::temp_dir& dir) {
  std::vector<std::string> argv{lgtest::program("transfer_program")};
  argv.insert(argv.end(), args.begin(), args.end());
  transfer_run t;
  t.result = lgtest::run(argv, env_with("report_dir=" + dir.str()), 60s);
  std::smatch m;
  static const std::regex kLine("reports 1 occurrences [0-9]+ fingerprints ([0-9a-f]{16})\n");
  if (std::regex_search(t.result.out, m, kLine)) t.fingerprint = m[1];
  const auto files = dir.files_ending(".json");
  if (files.size() == 1) t.json = lgtest::read_file(dir.path() / files.front());
  return t;
}

// The same bug through the report pipeline of a separate process: one JSON file (written once; its
// count rewritten at exit), one line at exit saying how often it occurred, and the same fingerprint
// whatever the number of pairs and whatever the addresses of this run (ASLR).
TEST(Fingerprint, StableAcrossRunsAndInstanceCountsViaJson) {
  lgtest::temp_dir fifty, seven, again;
  const transfer_run a = run_transfers({"50"}, fifty);
  ASSERT_TRUE(a.result.exited_with(0)) << a.result.describe();
  EXPECT_TRUE(contains(a.result.out, "reports 1 occurrences 50 fingerprints")) << a.result.describe();
  ASSERT_EQ(fifty.files_ending(".json").size(), 1u) << a.result.describe();
  EXPECT_TRUE(contains(a.json, "\"occurrences\": 50")) << a.json;
  EXPECT_TRUE(contains(a.json, "\"fingerprint\": \"" + a.fingerprint + "\"")) << a.json;
  EXPECT_EQ(lgtest::count_of(a.result.err, "lockgraph: lock-order-inversion"), 1u) << a.result.describe();
  EXPECT_TRUE(contains(a.result.err, "fingerprint " + a.fingerprint + ") occurred 50 times: lock-order inversion"))
      << a.result.describe();

  const transfer_run b = run_transfers({"7"}, seven);
  ASSERT_TRUE(b.result.exited_with(0)) << b.result.describe();
  EXPECT_EQ(b.fingerprint, a.fingerprint) << b.result.describe();
  EXPECT_TRUE(contains(b.json, "\"occurrences\": 7")) << b.json;

  // Named accounts ("account 3"): the instance number drops out, the class stays.
  const transfer_run c = run_transfers({"5", "--named"}, again);
  ASSERT_TRUE(c.result.exited_with(0)) << c.result.describe();
  EXPECT_TRUE(contains(c.result.out, "reports 1 occurrences 5 fingerprints")) << c.result.describe();
  EXPECT_NE(c.fingerprint, "");
  EXPECT_NE(c.fingerprint, a.fingerprint);  // another class of lock: another bug
}

// A report seen once is not said to repeat, and its file keeps occurrences 1.
TEST(Fingerprint, SingleOccurrenceHasNoRepeatLine) {
  lgtest::temp_dir dir;
  const transfer_run a = run_transfers({"1"}, dir);
  ASSERT_TRUE(a.result.exited_with(0)) << a.result.describe();
  EXPECT_TRUE(contains(a.json, "\"occurrences\": 1\n")) << a.json;
  EXPECT_FALSE(contains(a.result.err, " times: ")) << a.result.describe();
}

}  // namespace
