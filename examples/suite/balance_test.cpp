// Test binary 3 of 3: takes one lock at a time; adds no order.
#include <gtest/gtest.h>

#include "bank.hpp"

TEST(Balance, StartsAtZero) {
  bank b;
  EXPECT_EQ(b.balance("carol"), 0);
}
