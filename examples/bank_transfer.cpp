// bank_transfer: a lock-order inversion found in a run that never hangs.
//
// Each account has its own lockgraph::mutex. transfer(from, to) locks `from`, then `to`. One teller
// moves money from alice to bob, another from bob to alice: if the two transfers ran at the same time,
// each teller could hold its first account and wait forever for the other's. Here the tellers run one
// after the other, so this run cannot hang, yet lockgraph records "account alice" before "account bob"
// in the first transfer and the opposite order in the second, and reports the cycle
// (lock_order_inversion) with both threads and the stacks where each order was first seen. The
// program then goes on: an inversion is reported, never fatal by default.
//
// Run it:
//   build/examples/bank_transfer
//   LOCKGRAPH_OPTIONS=report_dir=/tmp/lg build/examples/bank_transfer   # + JSON and DOT files
//   scripts/deadlock-gate.sh -- build/examples/bank_transfer            # + summary table and SVG
//
// The usual fix: always lock accounts in one global order (e.g. by account number), or take both
// with std::scoped_lock, which lockgraph never reports.
#include <lockgraph/lockgraph.hpp>

#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

struct account {
  explicit account(std::string owner_name) : owner(std::move(owner_name)), mu("account " + owner) {}
  std::string owner;
  lockgraph::mutex mu;  // named: the name appears in reports and diagrams
  long balance = 100;
};

// Locks `from` first, then `to`: the lock order depends on the direction of the transfer.
void transfer(account& from, account& to, long amount) {
  std::lock_guard<lockgraph::mutex> lock_from(from.mu);
  std::lock_guard<lockgraph::mutex> lock_to(to.mu);
  from.balance -= amount;
  to.balance += amount;
}

int main() {
  account alice("alice");
  account bob("bob");

  // One teller after the other: each joins before the next starts, so this run never deadlocks.
  std::thread teller1([&] {
    lockgraph::set_thread_name("teller-1");
    transfer(alice, bob, 30);  // account alice => account bob
  });
  teller1.join();
  std::thread teller2([&] {
    lockgraph::set_thread_name("teller-2");
    transfer(bob, alice, 10);  // account bob => account alice: closes the cycle
  });
  teller2.join();

  std::printf("bank_transfer: alice has %ld, bob has %ld; lockgraph raised %zu report(s)\n", alice.balance,
              bob.balance, lockgraph::reports().size());
  return 0;
}
