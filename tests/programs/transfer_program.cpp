// tests/programs/transfer_program.cpp: one lock-order bug spread over many lock instances, for the
// fingerprint tests (one report per bug).
//
//   transfer_program PAIRS [--named] [--legacy PAIRS]
//
// Makes PAIRS pairs of accounts and, for each pair, runs transfer(a, b) on one thread and then
// transfer(b, a) on another (joined in between, so nothing can hang): PAIRS instances of one
// lock-order inversion. Accounts are unnamed (one construction site) unless --named, which names them
// "account <i>". --legacy PAIRS adds as many inversions of another bug, in legacy_transfer(), on
// locks named "legacy <i>". Last line on stdout: "reports <n> occurrences <o1> <o2> ... fingerprints
// <f1> ..." as reports() saw them just before exit.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lockgraph/lockgraph.hpp"

namespace {

struct account {
  account() = default;
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

__attribute__((noinline)) void legacy_transfer(account& from, account& to, long amount) {
  std::lock_guard<lockgraph::mutex> lock_from(from.mu);
  std::lock_guard<lockgraph::mutex> lock_to(to.mu);
  from.balance -= amount;
  to.balance += amount;
}

void both_ways(void (*move)(account&, account&, long), account& a, account& b) {
  std::thread t1([&] { move(a, b, 1); });
  t1.join();
  std::thread t2([&] { move(b, a, 1); });
  t2.join();
}

}  // namespace

int main(int argc, char** argv) {
  const int pairs = argc > 1 ? std::atoi(argv[1]) : 1;
  bool named = false;
  int legacy = 0;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--named") == 0) named = true;
    if (std::strcmp(argv[i], "--legacy") == 0 && i + 1 < argc) legacy = std::atoi(argv[++i]);
  }
  std::vector<std::unique_ptr<account>> accounts;
  for (int i = 0; i < 2 * pairs; ++i) {
    accounts.push_back(named ? std::make_unique<account>("account " + std::to_string(i)) : std::make_unique<account>());
  }
  for (int i = 0; i < pairs; ++i) both_ways(&transfer, *accounts[2 * i], *accounts[2 * i + 1]);
  std::vector<std::unique_ptr<account>> old;
  for (int i = 0; i < 2 * legacy; ++i) old.push_back(std::make_unique<account>("legacy " + std::to_string(i)));
  for (int i = 0; i < legacy; ++i) both_ways(&legacy_transfer, *old[2 * i], *old[2 * i + 1]);

  const std::vector<lockgraph::report> all = lockgraph::reports();
  std::string line = "reports " + std::to_string(all.size()) + " occurrences";
  for (const auto& r : all) line += " " + std::to_string(r.occurrences);
  line += " fingerprints";
  for (const auto& r : all) line += " " + r.fingerprint;
  std::printf("%s\n", line.c_str());
  return 0;
}
