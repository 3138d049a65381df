// lockgraph::gtest_main: GoogleTest's main() with lockgraph's listener installed (by the include).
#include "lockgraph/gtest.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
