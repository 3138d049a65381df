// tests/programs/default_options_program.cpp: a child process that sets options in code.
//
// Defines lockgraph_default_options() (see lockgraph/options.hpp) returning "exitcode=42
// report_dir=<LGTEST_REPORT_DIR>" when that variable is set, else "exitcode=42"; LGTEST_DEFAULT_OPTIONS,
// when set, replaces the whole string (to test a bad one). Then makes one lock-order inversion and
// prints "exit" on stdout before main returns.
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "lockgraph/lockgraph.hpp"

extern "C" const char* lockgraph_default_options() {
  if (const char* replaced = std::getenv("LGTEST_DEFAULT_OPTIONS")) return replaced;
  static const std::string defaults = [] {
    std::string s = "exitcode=42";
    if (const char* dir = std::getenv("LGTEST_REPORT_DIR")) s += " report_dir=" + std::string(dir);
    return s;
  }();
  return defaults.c_str();
}

int main() {
  lockgraph::mutex a("dflt.a"), b("dflt.b");
  {
    std::lock_guard<lockgraph::mutex> ga(a);
    std::lock_guard<lockgraph::mutex> gb(b);
  }
  {
    std::lock_guard<lockgraph::mutex> gb(b);
    std::lock_guard<lockgraph::mutex> ga(a);
  }
  (void)!::write(1, "exit\n", 5);
  return 0;
}
