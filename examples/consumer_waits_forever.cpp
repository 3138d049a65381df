// consumer_waits_forever: a thread waiting on a condition variable that nobody will ever notify.
//
// A producer thread is supposed to push jobs onto a queue and notify the consumer, then mark the queue
// closed. A bug makes it return early when it has nothing to do, without closing the queue or
// notifying anyone. The consumer waits on a lockgraph::condition_variable for "a job or closed", which
// now never comes: the C++ twin of a goroutine blocked forever on a channel. No lock cycle exists, so
// this is not a deadlock; it is a thread that waits forever.
//
// With LOCKGRAPH_OPTIONS=long_wait_ms=200, lockgraph's watchdog reports `long_wait` once the consumer
// has been blocked for 200 ms, naming the thread and the condition variable ("jobs available") it
// waits on. So that this demo ends by itself, the consumer gives up after 1 s (wait_for); the bug it
// shows would otherwise hang the program.
//
// Run it:
//   LOCKGRAPH_OPTIONS=long_wait_ms=200 build/examples/consumer_waits_forever
//   LOCKGRAPH_OPTIONS=long_wait_ms=200 scripts/deadlock-gate.sh -- build/examples/consumer_waits_forever
#include <lockgraph/lockgraph.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

struct job_queue {
  lockgraph::mutex mu{"job queue"};
  lockgraph::condition_variable jobs_available{"jobs available"};  // condition variables have labels too
  std::deque<int> jobs;
  bool closed = false;
};

// Should push `count` jobs, then close the queue. The early return forgets to close it and notify.
void produce(job_queue& q, int count) {
  if (count == 0) return;  // BUG: the consumer is never told that no job will come
  for (int i = 0; i < count; ++i) {
    std::lock_guard<lockgraph::mutex> lock(q.mu);
    q.jobs.push_back(i);
    q.jobs_available.notify_one();
  }
  std::lock_guard<lockgraph::mutex> lock(q.mu);
  q.closed = true;
  q.jobs_available.notify_all();
}

int main() {
  const char* options = std::getenv("LOCKGRAPH_OPTIONS");
  if (options == nullptr || std::strstr(options, "long_wait_ms=") == nullptr) {
    std::printf("consumer_waits_forever: tip: run with LOCKGRAPH_OPTIONS=long_wait_ms=200 to have lockgraph "
                "report the wait\n");
  }

  job_queue q;
  std::thread producer([&] {
    lockgraph::set_thread_name("producer");
    produce(q, 0);
  });

  lockgraph::set_thread_name("consumer");
  std::unique_lock<lockgraph::mutex> lock(q.mu);
  // In the buggy program this is q.jobs_available.wait(lock, pred): it never returns. The 1 s limit
  // is only here so the demo ends.
  const bool woke = q.jobs_available.wait_for(lock, std::chrono::seconds(1), [&] { return !q.jobs.empty() || q.closed; });
  lock.unlock();
  producer.join();

  if (!woke) {
    std::printf("consumer_waits_forever: the consumer gave up after 1 s: no job and no close ever came; "
                "lockgraph raised %zu report(s)\n", lockgraph::reports().size());
  }
  return 0;
}
