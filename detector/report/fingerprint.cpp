// fingerprint.cpp: see fingerprint.hpp.
#include "report/fingerprint.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/stack_trace.hpp"

namespace lockgraph::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string basename(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

// The rotation of a cycle's elements that is smallest, element by element: the same cycle entered
// at any edge gives the same sequence. A cycle that repeats one period (five philosophers, each the
// same fork class taken at the same site) is cut to that period, so the count of instances drops out.
std::vector<std::string> canonical_rotation(std::vector<std::string> cycle) {
  const std::size_t n = cycle.size();
  for (std::size_t period = 1; period < n; ++period) {
    if (n % period != 0) continue;
    bool repeats = true;
    for (std::size_t i = period; i < n && repeats; ++i) repeats = cycle[i] == cycle[i - period];
    if (repeats) {
      cycle.resize(period);
      break;
    }
  }
  std::vector<std::string> best = cycle;
  std::vector<std::string> rotated = cycle;
  for (std::size_t k = 1; k < cycle.size(); ++k) {
    std::rotate(rotated.begin(), rotated.begin() + 1, rotated.end());
    if (rotated < best) best = rotated;
  }
  return best;
}

std::string joined(const std::string& head, const std::vector<std::string>& parts) {
  std::string out = head;
  for (const auto& p : parts) out += "|" + p;
  return out;
}

std::string mode(bool shared) { return shared ? "(s)" : ""; }

}  // namespace

std::string class_key(std::string_view label) {
  std::string out;
  out.reserve(label.size());
  for (std::size_t i = 0; i < label.size();) {
    if (label[i] == '0' && i + 2 < label.size() && (label[i + 1] == 'x' || label[i + 1] == 'X') &&
        is_hex(label[i + 2]) && (i == 0 || !is_hex(label[i - 1]))) {
      out += "0x#";
      i += 2;
      while (i < label.size() && is_hex(label[i])) ++i;
      continue;
    }
    out += label[i++];
  }
  // An instance number closing the name, maybe inside closing brackets: "account 17", "shard[3]".
  // Not the line of a construction site ("bank.cpp:12"), which names the class itself.
  std::size_t end = out.size();
  while (end > 0 && (out[end - 1] == ']' || out[end - 1] == ')' || out[end - 1] == '>')) --end;
  std::size_t begin = end;
  while (begin > 0 && is_digit(out[begin - 1])) --begin;
  if (begin < end && begin > 0 && out[begin - 1] != ':' && !is_digit(out[begin - 1])) {
    out.replace(begin, end - begin, "#");
  }
  return out;
}

std::string fingerprint_site(const stack_trace& st) {
  if (st.empty()) return {};
  const frame_info f = innermost_user_frame(st);
  std::string site = f.function.empty() ? "?" : f.function;
  if (!f.file.empty()) site += " " + basename(f.file) + ":" + std::to_string(f.line);
  return site;
}

std::string fingerprint_text(const report& r) {
  const std::string kind = to_string(r.kind);
  std::vector<std::string> parts;
  switch (r.kind) {
    case report_kind::lock_order_inversion:
      // Edge i: locks[i] -> locks[i + 1], acquired at edges[i].stack.
      if (r.edges.size() == r.locks.size()) {
        for (const lock_edge& e : r.edges) {
          parts.push_back(class_key(e.from) + mode(e.from_shared) + ">" + class_key(e.to) + mode(e.to_shared) + "@" +
                          fingerprint_site(e.stack));
        }
      } else {
        for (const auto& l : r.locks) parts.push_back(class_key(l));
      }
      return joined(kind, canonical_rotation(parts));
    case report_kind::deadlock:
      // Thread i waits for locks[i] at its stack; the threads themselves do not matter.
      for (const thread_state& t : r.threads) {
        parts.push_back(class_key(t.waits_for) + mode(t.waits_shared) + "@" + fingerprint_site(t.stack));
      }
      return joined(kind, canonical_rotation(parts));
    case report_kind::self_deadlock:
    case report_kind::bad_unlock:
    case report_kind::assertion_failed:
      for (const auto& l : r.locks) parts.push_back(class_key(l));
      parts.push_back("@" + fingerprint_site(r.stack));
      return joined(kind, parts);
    case report_kind::unreleased_lock:
      // The locks left held and where each was taken, in no particular order.
      if (!r.threads.empty() && !r.threads.front().holds.empty()) {
        for (const held_lock& h : r.threads.front().holds) {
          parts.push_back(class_key(h.lock) + "@" + fingerprint_site(h.stack));
        }
      } else {
        for (const auto& l : r.locks) parts.push_back(class_key(l));
      }
      std::sort(parts.begin(), parts.end());
      parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
      return joined(kind, parts);
    case report_kind::long_wait:
      // The waiter: what it waits on, and where. Holders and durations vary from run to run.
      if (!r.threads.empty()) {
        parts.push_back(class_key(r.threads.front().waits_for) + "@" + fingerprint_site(r.threads.front().stack));
      }
      return joined(kind, parts);
    case report_kind::all_threads_blocked:
      for (const thread_state& t : r.threads) {
        if (!t.waits_for.empty()) parts.push_back(class_key(t.waits_for) + "@" + fingerprint_site(t.stack));
      }
      std::sort(parts.begin(), parts.end());
      parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
      return joined(kind, parts);
  }
  return kind;
}

std::string fingerprint_of(const report& r) {
  // FNV-1a, 64 bit: fixed constants, so the same text hashes the same everywhere.
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : fingerprint_text(r)) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = kHex[h & 0xF];
  return out;
}

}  // namespace lockgraph::detail
