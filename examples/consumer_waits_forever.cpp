// consumer_waits_forever: a thread waiting on a condition variable that nobody will ever notify.
//
// A producer thread is supposed to push jobs onto a queue and notify the consumer, then mark the queue
// closed. A bug makes it return early when it has nothing to do, without closing the queue or
// notifying anyone. The consumer waits on a lockgraph::condition_variable for "a job or closed", which
// now never comes: the C++ twin of a goroutine blocked forever on a channel. No lock cycle exists, so
// this is not a deadlock; it is a thread that waits forever.
//
// Once the producer has exited, the consumer is the only thread left and it waits, with no time-out, on
// a condition variable nobody can notify any more: every thread of the process is asleep for good
// (Go's "all goroutines are asleep - deadlock!"). lockgraph reports `all_threads_blocked` at once,
// naming the thread and the condition variable ("jobs available") it waits on, writes the files and
// aborts, like a deadlock: the program that would hang ends by itself.
//
// (A consumer that merely idles while a producer is still alive is not reported: an idle condition wait
// is not a hang. See README "What is a hang".)
//
// Run it:
//   build/examples/consumer_waits_forever
//   scripts/deadlock-gate.sh -- build/examples/consumer_waits_forever
#include <lockgraph/lockgraph.hpp>

#include <cstdio>
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
  job_queue q;
  std::thread producer([&] {
    lockgraph::set_thread_name("producer");
    produce(q, 0);
  });

  lockgraph::set_thread_name("consumer");
  std::unique_lock<lockgraph::mutex> lock(q.mu);
  std::printf("consumer_waits_forever: the consumer waits for a job or the close\n");
  std::fflush(stdout);
  // Never returns: no job and no close will come. lockgraph ends the process once the producer is gone.
  q.jobs_available.wait(lock, [&] { return !q.jobs.empty() || q.closed; });
  lock.unlock();
  producer.join();
  std::printf("consumer_waits_forever: woke up (unexpected)\n");
  return 0;
}
