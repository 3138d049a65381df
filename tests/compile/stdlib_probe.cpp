#include <mutex>
#include <shared_mutex>
int main() { std::mutex m; std::lock_guard<std::mutex> g(m); }
