// labels.cpp: interning of lock names, and label formatting.
#include "base/labels.hpp"

#include <atomic>
#include <cstring>
#include <functional>
#include <new>

namespace lockgraph::detail {
namespace {

// A lock-free, insert-only intern table: a fixed array of buckets, each a singly linked list that only
// ever grows at its head by compare-and-swap. Lookups take no lock and write nothing; nodes are never
// freed (names live as long as the process), so a reader can never see freed memory. Plain operator
// new keeps every node visible to LeakSanitizer (a oneTBB container here stored offset pointers that
// LeakSanitizer reported as leaks in users' ASan builds).
struct name_node {
  const name_node* next;
  std::size_t size;
  char text[1];  // size + 1 bytes allocated, NUL-terminated
};

constexpr std::size_t kBuckets = 4096;
std::atomic<const name_node*> g_buckets[kBuckets];

const name_node* find_in(const name_node* n, std::string_view name) {
  for (; n != nullptr; n = n->next) {
    if (n->size == name.size() && std::memcmp(n->text, name.data(), name.size()) == 0) return n;
  }
  return nullptr;
}

}  // namespace

const char* intern_name(std::string_view name) noexcept {
  std::atomic<const name_node*>& bucket = g_buckets[std::hash<std::string_view>{}(name) % kBuckets];
  const name_node* head = bucket.load(std::memory_order_acquire);
  if (const name_node* hit = find_in(head, name)) return hit->text;
  void* raw = ::operator new(offsetof(name_node, text) + name.size() + 1, std::nothrow);
  if (raw == nullptr) return "<out of memory>";
  auto* node = static_cast<name_node*>(raw);
  node->size = name.size();
  std::memcpy(node->text, name.data(), name.size());
  node->text[name.size()] = '\0';
  for (;;) {
    node->next = head;
    if (bucket.compare_exchange_weak(head, node, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return node->text;
    }
    // Someone pushed meanwhile: maybe this very name.
    if (const name_node* hit = find_in(head, name)) {
      ::operator delete(raw);
      return hit->text;
    }
  }
}

std::string thread_label(const thread_ref& t) {
  std::string label = "T" + std::to_string(t.id);
  if (!t.name.empty()) label += " (" + t.name + ")";
  return label;
}

std::string label_ref::str() const {
  if (named) return text;
  std::string_view file(text);
  const auto slash = file.find_last_of('/');
  if (slash != std::string_view::npos) file.remove_prefix(slash + 1);
  std::string out(file);
  out.push_back(':');
  out.append(std::to_string(line));
  return out;
}

}  // namespace lockgraph::detail

// The naming constructor lives here so that headers need no allocation or container code.
lockgraph::detail::lock_meta::lock_meta(std::string_view name, lock_type t) noexcept
    : label(intern_name(name)), line(0), type(t), named(1) {}
