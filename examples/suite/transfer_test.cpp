// Test binary 1 of 3: transfers (accounts, then ledger).
#include <gtest/gtest.h>

#include "bank.hpp"

TEST(Transfer, MovesMoney) {
  bank b;
  b.transfer("alice", "bob", 10);
  EXPECT_EQ(b.balance("bob"), 10);
}
