// A GoogleTest program of a lockgraph user, linked with lockgraph::gtest_main from the installed
// package's gtest component (find_package(lockgraph COMPONENTS gtest)). No main(), no include of
// lockgraph/gtest.hpp: the component's main installs lockgraph's listener.
//
// Clean.Passes passes; Inversion.Fails closes the cycle a => b => a and must be failed by the listener.
// scripts/test.sh runs it and expects exit status 1 with exactly Inversion.Fails failed.
#include <gtest/gtest.h>
#include <lockgraph/lockgraph.hpp>

#include <mutex>

namespace {

lockgraph::mutex a{"gtest consumer a"};
lockgraph::mutex b{"gtest consumer b"};

TEST(Clean, Passes) {
  std::lock_guard<lockgraph::mutex> ga(a);
  std::lock_guard<lockgraph::mutex> gb(b);
}

TEST(Inversion, Fails) {
  std::lock_guard<lockgraph::mutex> gb(b);
  std::lock_guard<lockgraph::mutex> ga(a);
}

}  // namespace
