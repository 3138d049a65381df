// tests/thread_registry_test.cpp: the thread registry on its own (threads/thread_registry.hpp): slots
// taken and reused, the held stack past its inline part, the walk over live threads, reading a wait
// state, labelling held locks, naming threads. Slots are taken directly, not through a lockgraph lock,
// so nothing here registers the test's own threads.
#include "threads/thread_registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <set>
#include <thread>
#include <vector>

namespace {

using namespace lockgraph::detail;

std::vector<thread_slot*> live() {
  std::vector<thread_slot*> out;
  for_each_live_thread([&](thread_slot& s) { out.push_back(&s); });
  return out;
}

bool has(const std::vector<thread_slot*>& v, const thread_slot* s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// A released slot is free, visited by no walk, and the next thread to register gets it back.
TEST(ThreadRegistry, ReleasedSlotIsReusedAndNotWalked) {
  thread_slot* a = acquire_slot();
  thread_slot* b = acquire_slot();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_TRUE(has(live(), a));
  EXPECT_TRUE(has(live(), b));
  release_slot(a);
  EXPECT_FALSE(has(live(), a));
  EXPECT_TRUE(has(live(), b));
  EXPECT_EQ(find_live_thread([&](thread_slot& s) { return &s == a; }), nullptr);
  EXPECT_EQ(find_live_thread([&](thread_slot& s) { return &s == b; }), b);
  thread_slot* c = acquire_slot();
  EXPECT_EQ(c, a);
  release_slot(b);
  release_slot(c);
}

// Eight threads registering at once get eight distinct slots.
TEST(ThreadRegistry, ConcurrentRegistrationsGetDistinctSlots) {
  constexpr int kThreads = 8;
  std::vector<thread_slot*> got(kThreads);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      got[i] = acquire_slot();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<thread_slot*>(got.begin(), got.end()).size(), static_cast<std::size_t>(kThreads));
  for (thread_slot* s : got) release_slot(s);
}

// Entries past kInlineHeld live in chunks grown on demand (owner only); without `grow`, past the
// last chunk is nullptr. Inline entries are the record's own.
TEST(ThreadRegistry, HeldStackSpillsIntoChunks) {
  thread_slot* s = acquire_slot();
  const std::uint32_t past = kInlineHeld + held_chunk::kSize + 3;  // into the second chunk
  EXPECT_EQ(held_at(&s->rec, 0), &s->rec.held[0]);
  EXPECT_EQ(held_at(&s->rec, kInlineHeld - 1), &s->rec.held[kInlineHeld - 1]);
  EXPECT_EQ(held_at(&s->rec, kInlineHeld), nullptr);
  std::set<held_entry*> seen;
  for (std::uint32_t i = 0; i <= past; ++i) seen.insert(held_at(&s->rec, i, /*grow=*/true));
  EXPECT_EQ(seen.size(), past + 1);
  EXPECT_EQ(seen.count(nullptr), 0u);
  EXPECT_EQ(held_at(&s->rec, past), held_at(&s->rec, past, true));  // stable once grown
  release_slot(s);
}

// A wait is seen only while wait_seq is odd and something is waited on.
TEST(ThreadRegistry, ReadWaitSeesOnlyAPublishedWait) {
  thread_slot* s = acquire_slot();
  lock_meta m("m", lock_type::mutex);
  waiting_thread w;
  EXPECT_FALSE(read_wait(s, &w));
  s->extra.waits_on.store(&m);
  s->extra.wait_mode.store(mode_shared);
  s->extra.wait_type.store(wait_kind::lock);
  s->extra.wait_since_ns.store(42);
  EXPECT_FALSE(read_wait(s, &w));  // even seq: not (yet) blocked
  s->extra.wait_seq.store(s->extra.wait_seq.load() + 1);
  ASSERT_TRUE(read_wait(s, &w));
  EXPECT_EQ(w.slot, s);
  EXPECT_EQ(w.waits_on, &m);
  EXPECT_EQ(w.mode, mode_shared);
  EXPECT_EQ(w.kind, wait_kind::lock);
  EXPECT_EQ(w.since_ns, 42);
  EXPECT_EQ(w.seq % 2, 1u);
  s->extra.wait_seq.store(s->extra.wait_seq.load() + 1);
  EXPECT_FALSE(read_wait(s, &w));
  release_slot(s);
}

// held_locks() labels entries bottom first with their modes and skips tombstones; holds_lock() sees
// what is on the stack.
TEST(ThreadRegistry, HeldLocksAreLabelledAndTombstonesSkipped) {
  thread_slot* s = acquire_slot();
  lock_meta a("a", lock_type::shared_mutex), b("b", lock_type::mutex);
  s->rec.held[0].lock.store(&a);
  s->rec.held[0].mode.store(mode_shared);
  s->rec.held[1].lock.store(&destroyed_lock);
  s->rec.held[1].mode.store(mode_exclusive);
  s->rec.held[2].lock.store(&b);
  s->rec.held[2].mode.store(mode_try);
  s->rec.depth.store(3);
  const auto h = held_locks(&s->rec);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].lock, "a");
  EXPECT_TRUE(h[0].shared);
  EXPECT_FALSE(h[0].try_acquired);
  EXPECT_EQ(h[1].lock, "b");
  EXPECT_FALSE(h[1].shared);
  EXPECT_TRUE(h[1].try_acquired);
  EXPECT_TRUE(holds_lock(&s->rec, &a));
  EXPECT_TRUE(holds_lock(&s->rec, &b));
  lock_meta c("c", lock_type::mutex);
  EXPECT_FALSE(holds_lock(&s->rec, &c));
  release_slot(s);  // also empties the stack
  EXPECT_EQ(s->rec.depth.load(), 0u);
}

// The main thread is "main" when nobody named it; a name given wins.
TEST(ThreadRegistry, DescribeUsesTheGivenNameElseMain) {
  thread_slot* s = acquire_slot();
  s->extra.number = 0;
  EXPECT_EQ(describe(*s).name, "main");
  s->extra.name = "worker-3";
  s->extra.number = 3;
  const auto r = describe(*s);
  EXPECT_EQ(r.id, 3u);
  EXPECT_EQ(r.name, "worker-3");
  release_slot(s);
  EXPECT_TRUE(s->extra.name.empty());
}

}  // namespace
