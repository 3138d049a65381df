// examples/suite/bank.hpp: the product code of the suite example. Two lock classes, taken in opposite
// orders by two code paths that no single test runs together.
#ifndef LOCKGRAPH_EXAMPLES_SUITE_BANK_HPP
#define LOCKGRAPH_EXAMPLES_SUITE_BANK_HPP

#include <map>
#include <mutex>
#include <string>

#include <lockgraph/lockgraph.hpp>

class bank {
 public:
  // Books a transfer: accounts first, then the ledger.
  void transfer(const std::string& from, const std::string& to, int amount) {
    std::lock_guard<lockgraph::mutex> a(accounts_mu_);
    balances_[from] -= amount;
    balances_[to] += amount;
    std::lock_guard<lockgraph::mutex> l(ledger_mu_);
    ++entries_;
  }

  // Audits the ledger against the balances: ledger first, then accounts. The other order: two threads,
  // one transferring and one auditing, can deadlock. No single test does both.
  int audit() {
    std::lock_guard<lockgraph::mutex> l(ledger_mu_);
    std::lock_guard<lockgraph::mutex> a(accounts_mu_);
    int sum = 0;
    for (const auto& [name, balance] : balances_) sum += balance;
    return sum;
  }

  int balance(const std::string& who) {
    std::lock_guard<lockgraph::mutex> a(accounts_mu_);
    return balances_[who];
  }

 private:
  lockgraph::mutex accounts_mu_{"bank.accounts"};
  lockgraph::mutex ledger_mu_{"bank.ledger"};
  std::map<std::string, int> balances_;
  int entries_ = 0;
};

#endif  // LOCKGRAPH_EXAMPLES_SUITE_BANK_HPP
