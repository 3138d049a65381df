// labels.cpp: interning of lock names (reference-counted), label formatting, and the labels of locks
// the standard library constructed.
#include "base/labels.hpp"

#include <atomic>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <new>
#include <utility>

#include "base/stack_trace.hpp"

namespace lockgraph::detail {
namespace {

// ---- interned names ------------------------------------------------------------------------------
//
// A name is interned once per distinct text while some lock or label uses it: `refs` counts the locks
// constructed with it and the label_refs copied from them (graph nodes, edges). The last release
// unlinks it and puts it on a free list of its size class, where the next new name of that size takes
// it. Nodes are never handed back to the allocator ("type-stable" memory): a racy reader holding a stale
// pointer (a snapshot of another thread's lock) can always read `refs`, and takes a reference only while
// it is not 0, so it gets the name, a newer name that reused the node, or nothing; never freed memory.
// Memory is bounded by the peak number of names alive at once, not by the names ever used.
//
// The table is cut into stripes by hash, each a hash table that doubles when full, under its own
// std::mutex: interning and the last release are O(1) and take one stripe lock; copies and other
// releases touch only `refs`.
struct name_node {
  name_node* next;              // bucket chain while interned, free list after
  std::atomic<std::uint32_t> refs;
  std::uint32_t size_class;     // the node is (1 << size_class) bytes; 0 for the static fallback node
  std::size_t hash;
  std::size_t size;             // of text, without the terminating NUL
  char text[8];                 // size + 1 bytes (more when the class allows)
};

constexpr std::size_t kStripes = 64;
constexpr std::uint32_t kMinClass = 6;  // 64-byte nodes at least

struct stripe {
  std::mutex mu;
  name_node** buckets = nullptr;  // mask + 1 heads
  std::size_t mask = 0;
  std::size_t count = 0;
  name_node* free_nodes[64] = {};  // per size class
};

// Created on first use and never destroyed: locks may be destroyed by static destructors at any time.
stripe* stripes() {
  static stripe* s = new stripe[kStripes];
  return s;
}

stripe& stripe_for(std::size_t hash) { return stripes()[hash % kStripes]; }
std::size_t bucket_of(std::size_t hash, std::size_t mask) { return (hash / kStripes) & mask; }

// Handed out when memory runs out: never released (size_class 0), never reused.
name_node g_no_memory{nullptr, {1}, 0, 0, 15, "<no mem"};
constexpr char kNoMemoryText[] = "<out of memory>";

name_node* node_of_text(const char* text) {
  return reinterpret_cast<name_node*>(const_cast<char*>(text) - offsetof(name_node, text));
}

std::uint32_t class_for(std::size_t size) {
  const std::size_t need = offsetof(name_node, text) + size + 1;
  std::uint32_t c = kMinClass;
  while ((std::size_t{1} << c) < need) ++c;
  return c;
}

// Doubles the bucket array (at least 16) when the stripe holds as many names as buckets.
void grow_if_full(stripe& s) {
  const std::size_t n = s.buckets == nullptr ? 0 : s.mask + 1;
  if (s.count < n) return;
  const std::size_t m = n == 0 ? 16 : 2 * n;
  auto* fresh = static_cast<name_node**>(::operator new(m * sizeof(name_node*), std::nothrow));
  if (fresh == nullptr) return;  // keep the old buckets: longer chains, still correct
  std::memset(fresh, 0, m * sizeof(name_node*));
  for (std::size_t i = 0; i < n; ++i) {
    for (name_node* x = s.buckets[i]; x != nullptr;) {
      name_node* next = x->next;
      name_node*& head = fresh[bucket_of(x->hash, m - 1)];
      x->next = head;
      head = x;
      x = next;
    }
  }
  ::operator delete(s.buckets);
  s.buckets = fresh;
  s.mask = m - 1;
}

bool try_acquire(name_node* n) {
  if (n->size_class == 0) return true;
  std::uint32_t r = n->refs.load(std::memory_order_acquire);
  while (r != 0) {
    if (n->refs.compare_exchange_weak(r, r + 1, std::memory_order_acquire, std::memory_order_acquire)) return true;
  }
  return false;
}

void acquire(name_node* n) {
  if (n->size_class != 0) n->refs.fetch_add(1, std::memory_order_relaxed);
}

void release(name_node* n) {
  if (n->size_class == 0) return;
  // Not the last reference: no lock. The last one is dropped under the stripe lock, so that a lookup
  // (which takes references under the lock) never finds a node being unlinked.
  std::uint32_t r = n->refs.load(std::memory_order_relaxed);
  while (r > 1) {
    if (n->refs.compare_exchange_weak(r, r - 1, std::memory_order_acq_rel, std::memory_order_relaxed)) return;
  }
  stripe& s = stripe_for(n->hash);  // stable: this caller still holds a reference
  std::lock_guard<std::mutex> g(s.mu);
  if (n->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;  // referenced again meanwhile
  for (name_node** p = &s.buckets[bucket_of(n->hash, s.mask)]; *p != nullptr; p = &(*p)->next) {
    if (*p != n) continue;
    *p = n->next;
    --s.count;
    break;
  }
  n->next = s.free_nodes[n->size_class];
  s.free_nodes[n->size_class] = n;
}

// ---- labels of locks the standard library constructed -------------------------------------------

struct std_site_cache {
  std::mutex mu;
  std::map<std::pair<std::uintptr_t, std::uint32_t>, std::string> resolved;
};
std_site_cache& site_cache() {
  static std_site_cache* c = new std_site_cache();
  return *c;
}

std::string resolve_std_site(const char* pc, std::uint32_t ret_offset) {
  const auto key = std::make_pair(reinterpret_cast<std::uintptr_t>(pc), ret_offset);
  std_site_cache& c = site_cache();
  {
    std::lock_guard<std::mutex> g(c.mu);
    if (const auto it = c.resolved.find(key); it != c.resolved.end()) return it->second;
  }
  // Symbolized off the cache's lock; two threads resolving the same site at once agree.
  stack_trace st;
  st.frames.push_back(key.first);
  if (ret_offset != 0) {
    st.frames.push_back(key.first + static_cast<std::uintptr_t>(static_cast<std::intptr_t>(static_cast<std::int32_t>(ret_offset))));
  }
  std::string label = innermost_user_line(st);
  if (label.empty()) label = "<constructed in the standard library>";
  std::lock_guard<std::mutex> g(c.mu);
  return c.resolved.emplace(key, std::move(label)).first->second;
}

}  // namespace

const char* intern_label(std::string_view name) noexcept {
  const std::size_t h = std::hash<std::string_view>{}(name);
  stripe& s = stripe_for(h);
  std::lock_guard<std::mutex> g(s.mu);
  if (s.buckets != nullptr) {
    for (name_node* n = s.buckets[bucket_of(h, s.mask)]; n != nullptr; n = n->next) {
      if (n->hash == h && n->size == name.size() && std::memcmp(n->text, name.data(), name.size()) == 0) {
        n->refs.fetch_add(1, std::memory_order_relaxed);
        return n->text;
      }
    }
  }
  grow_if_full(s);
  if (s.buckets == nullptr) return g_no_memory.text;
  const std::uint32_t c = class_for(name.size());
  name_node* n = s.free_nodes[c];
  if (n != nullptr) {
    s.free_nodes[c] = n->next;
  } else {
    void* raw = ::operator new(std::size_t{1} << c, std::nothrow);
    if (raw == nullptr) return g_no_memory.text;
    n = new (raw) name_node{};
    n->size_class = c;
  }
  n->hash = h;
  n->size = name.size();
  char* text = reinterpret_cast<char*>(n) + offsetof(name_node, text);  // the array runs past text[8]
  std::memcpy(text, name.data(), name.size());
  text[name.size()] = '\0';
  n->refs.store(1, std::memory_order_release);
  name_node*& head = s.buckets[bucket_of(h, s.mask)];
  n->next = head;
  head = n;
  ++s.count;
  return n->text;
}

void release_label(lock_meta& m) noexcept {
  if (m.named != label_interned || m.label == nullptr) return;
  release(node_of_text(m.label));
}

std::size_t interned_name_count() noexcept {
  std::size_t total = 0;
  for (std::size_t i = 0; i < kStripes; ++i) {
    std::lock_guard<std::mutex> g(stripes()[i].mu);
    total += stripes()[i].count;
  }
  return total;
}

void lock_labels_for_fork() noexcept {
  for (std::size_t i = 0; i < kStripes; ++i) stripes()[i].mu.lock();
  site_cache().mu.lock();
}

void unlock_labels_after_fork() noexcept {
  site_cache().mu.unlock();
  for (std::size_t i = kStripes; i-- > 0;) stripes()[i].mu.unlock();
}

label_ref::label_ref(const label_ref& o) noexcept : text(o.text), line(o.line), kind(o.kind), member(o.member) {
  if (kind == label_interned) acquire(node_of_text(text));
}

label_ref& label_ref::operator=(const label_ref& o) noexcept {
  if (this == &o) return *this;
  if (o.kind == label_interned) acquire(node_of_text(o.text));
  if (kind == label_interned) release(node_of_text(text));
  text = o.text;
  line = o.line;
  kind = o.kind;
  member = o.member;
  return *this;
}

label_ref::~label_ref() {
  if (kind == label_interned) release(node_of_text(text));
}

label_ref label_ref::of(const lock_meta& m) noexcept {
  label_ref out;
  const char* text = m.label;
  const std::uint8_t kind = m.named;
  if (text == nullptr) {
    // A global with a computed name, used by an earlier static constructor before its own.
    static constexpr char kEarly[] = "<lock used before its construction>";
    out.text = kEarly;
    out.line = sizeof kEarly - 1;
    return out;
  }
  if (kind == label_interned) {
    name_node* n = node_of_text(text);
    if (!try_acquire(n)) {
      static constexpr char kGone[] = "<destroyed lock>";
      out.text = kGone;
      out.line = sizeof kGone - 1;
      return out;
    }
    out.line = static_cast<std::uint32_t>(n->size);
  } else {
    out.line = m.line;
    if (kind == label_site) out.member = m.member;
  }
  out.text = text;
  out.kind = kind;
  return out;
}

std::string label_ref::str() const {
  switch (kind) {
    case label_site: {
      std::string_view file(text);
      const auto slash = file.find_last_of('/');
      if (slash != std::string_view::npos) file.remove_prefix(slash + 1);
      std::string out(file);
      out.push_back(':');
      out.append(std::to_string(line));
      if (member != 0) out += "[" + std::to_string(member) + "]";
      return out;
    }
    case label_interned: {
      if (text == g_no_memory.text) return kNoMemoryText;
      return std::string(text, node_of_text(text)->size);
    }
    case label_std_site:
      return resolve_std_site(text, line);
    default:
      return std::string(text, line);
  }
}

std::string class_key(const lock_meta& m) { return label_ref::of(m).str(); }

// The members of one object are built one after the other by its constructor, at ascending addresses
// close together, each by its own code, all with the constructor's line. Per thread and per line (a few
// lines at a time), the codes of the object being built are kept in order: code seen before at that
// line → the same rank (the same member of another object: an array's elements, a second object built
// by the same code); new code just above the previous lock of that line → the next rank (the next
// member); anything else → a new object starts, rank 0. Lock constructions at other lines in between
// (a member object with locks of its own) do not disturb the run.
std::uint16_t member_index(member_runs& my, const char* file, std::uint32_t line, const void* code,
                           const void* self) noexcept {
  constexpr std::uintptr_t kObjectSpan = 4096;  // members farther apart than this: another object
  constexpr std::size_t kSites = member_runs::kSites;
  constexpr std::size_t kCodes = member_runs::kCodes;
  using run = member_runs::run;
  const auto at = reinterpret_cast<std::uintptr_t>(self);
  run* r = &my.runs[my.last % kSites];
  if (r->file != file || r->line != line) {
    r = nullptr;
    for (std::uint32_t i = 0; i < kSites; ++i) {
      if (my.runs[i].file == file && my.runs[i].line == line) {
        r = &my.runs[i];
        my.last = i;
        break;
      }
    }
  }
  if (r == nullptr) {
    my.last = my.victim % kSites;
    r = &my.runs[my.last];
    my.victim = (my.last + 1) % kSites;
    r->file = file;
    r->line = line;
    r->count = 0;
  }
  std::uint32_t rank = 0;
  bool found = false;
  for (std::uint32_t i = 0; i < r->count && i < kCodes; ++i) {
    if (r->codes[i] == code) {
      rank = i;
      found = true;
      break;
    }
  }
  if (!found) {
    if (r->count == 0 || at <= r->last || at - r->last >= kObjectSpan) r->count = 0;  // a new object
    rank = r->count;
    if (rank < kCodes) r->codes[rank] = code;
    if (r->count < UINT16_MAX) ++r->count;
  }
  r->last = at;
  return static_cast<std::uint16_t>(rank);
}

void prepare_label(const lock_meta& m) noexcept {
  if (m.named != label_std_site || m.label == nullptr) return;
  try {
    (void)resolve_std_site(m.label, m.line);
  } catch (...) {
    // Out of memory: str() tries again later.
  }
}

std::string thread_label(const thread_ref& t) {
  std::string label = "T" + std::to_string(t.id);
  if (!t.name.empty()) label += " (" + t.name + ")";
  return label;
}

}  // namespace lockgraph::detail
