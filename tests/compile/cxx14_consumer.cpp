#include <lockgraph/lockgraph.hpp>
int main() { lockgraph::mutex m; m.lock(); m.unlock(); }
