// Test binary 2 of 3: audits (ledger, then accounts): the opposite order of transfer_test.cpp.
#include <gtest/gtest.h>

#include "bank.hpp"

TEST(Audit, BalancesSumToZero) {
  bank b;
  EXPECT_EQ(b.audit(), 0);
}
