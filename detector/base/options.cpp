// detector/options.cpp: LOCKGRAPH_OPTIONS parsing.
//
// One table lists every key with the field it sets, so the parser, the range checks and the
// "accepted: ..." list in messages cannot drift apart.
#include "options.hpp"

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace lockgraph::detail {
namespace {

// An integer option: the field and the largest value it accepts (the smallest is always 0).
template <typename T>
struct bounded {
  T options::*field;
  std::uint32_t max;

  void set(options& out, std::uint32_t value) const { out.*field = static_cast<T>(value); }
};

// A free-text option (a path): the field and what its messages show as accepted.
struct text {
  std::string options::*field;
  std::string_view accepted;
};

// dump_signal: 0 (off) or a signal lockgraph can catch and that the kernel sends asynchronously. Not
// SIGKILL/SIGSTOP (no handler can be installed), not the synchronous SIGILL, SIGTRAP, SIGABRT, SIGBUS,
// SIGFPE, SIGSEGV, SIGSYS (a handler that returns re-runs the fault; SIGABRT is lockgraph's own abort),
// not 32 and 33 (glibc's internal real-time signals).
struct signal_number {
  int options::*field;

  static bool acceptable(std::uint32_t n) {
    switch (n) {
      case 4: case 5: case 6: case 7: case 8: case 9: case 11: case 19: case 31: case 32: case 33: return false;
      default: return n <= 64;
    }
  }
};

struct option_spec {
  std::string_view key;
  std::variant<text, bool options::*, bounded<int>, bounded<unsigned>, signal_number> target;
};

constexpr std::array kSpecs = {
    option_spec{"report_dir", text{&options::report_dir, "report_dir=DIR"}},
    option_spec{"exitcode", bounded<int>{&options::exitcode, 255}},
    option_spec{"enabled", &options::enabled},
    option_spec{"abort_on_deadlock", &options::abort_on_deadlock},
    option_spec{"halt_on_report", &options::halt_on_report},
    option_spec{"long_wait_ms", bounded<unsigned>{&options::long_wait_ms, 86'400'000}},
    option_spec{"stack_depth", bounded<unsigned>{&options::stack_depth, 128}},
    option_spec{"print_reports", &options::print_reports},
    option_spec{"check_at_exit", &options::check_at_exit},
    option_spec{"dump_signal", signal_number{&options::dump_signal}},
    option_spec{"log_path", text{&options::log_path, "stderr, stdout or a path"}},
    option_spec{"strip_path_prefix", text{&options::strip_path_prefix, "strip_path_prefix=PREFIX"}},
    option_spec{"max_edges", bounded<unsigned>{&options::max_edges, 4'000'000'000u}},
    option_spec{"lock_order", text{&options::lock_order, "lock_order=FILE (a declared lock order)"}},
    option_spec{"lock_order_strict", &options::lock_order_strict},
    option_spec{"suppressions", text{&options::suppressions, "suppressions=FILE"}},
};

// accepted_option_keys() as a compile-time constant built from kSpecs.
constexpr std::size_t joined_keys_size() {
  std::size_t size = 0;
  for (const option_spec& spec : kSpecs) size += spec.key.size() + 2;
  return size - 2;
}

constexpr auto kJoinedKeys = [] {
  std::array<char, joined_keys_size()> joined{};
  std::size_t at = 0;
  for (const option_spec& spec : kSpecs) {
    if (at != 0) {
      joined[at++] = ',';
      joined[at++] = ' ';
    }
    for (char c : spec.key) joined[at++] = c;
  }
  return joined;
}();

constexpr std::string_view kFormat = "(format: key=value pairs separated by ':', ',' or spaces)";
constexpr std::string_view kSeparators = ":, \t\n\r";

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
// Aggregate CTAD would deduce this by itself from C++20 on, but clang implements that only from 17.
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

bool parse_bool(std::string_view value, bool& out) {
  if (value == "1" || value == "true") {
    out = true;
  } else if (value == "0" || value == "false") {
    out = false;
  } else {
    return false;
  }
  return true;
}

// Unsigned decimal digits only: std::from_chars already refuses a sign for unsigned types and reports
// overflow, so only trailing garbage ("08x") and the range are left to check.
bool parse_bounded(std::string_view value, std::uint32_t max, std::uint32_t& out) {
  const char* end = value.data() + value.size();
  std::uint64_t parsed = 0;
  auto [ptr, ec] = std::from_chars(value.data(), end, parsed);
  if (ec != std::errc() || ptr != end || parsed > max) return false;
  out = static_cast<std::uint32_t>(parsed);
  return true;
}

// What a key accepts, as shown in its error messages.
std::string accepted_values(const option_spec& spec) {
  return std::visit(
      overloaded{
          [](const text& t) { return std::string(t.accepted); },
          [](bool options::*) { return std::string("0 or 1"); },
          [](const signal_number&) {
            return std::string(
                "0 (off) or a catchable asynchronous signal: 1-3, 10, 12-18, 20-30 or 34-64; not 9 or 19 "
                "(uncatchable), 4-8, 11 or 31 (synchronous), 32 or 33 (glibc's own)");
          },
          [](auto integer) { return "an integer from 0 to " + std::to_string(integer.max); },
      },
      spec.target);
}

// 'text' for a message, which stays one line: a newline, tab or CR inside shows as \n, \t, \r.
std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Applies one "key=value" to `out`; returns the error message, or an empty string.
std::string apply(std::string_view source, const option_spec& spec, std::string_view value, options& out) {
  if (value.empty()) {
    return std::string(source) + ": " + quoted(spec.key) + " needs a value (accepted: " + accepted_values(spec) +
           ")";
  }
  const bool ok = std::visit(
      overloaded{
          [&](const text& t) {
            out.*t.field = std::string(value);
            return true;
          },
          [&](bool options::*field) { return parse_bool(value, out.*field); },
          [&](const signal_number& sig) {
            std::uint32_t parsed = 0;
            if (!parse_bounded(value, 64, parsed) || !signal_number::acceptable(parsed)) return false;
            out.*sig.field = static_cast<int>(parsed);
            return true;
          },
          [&](auto integer) {
            std::uint32_t parsed = 0;
            if (!parse_bounded(value, integer.max, parsed)) return false;
            integer.set(out, parsed);
            return true;
          },
      },
      spec.target);
  if (ok) return {};
  return std::string(source) + ": bad value " + quoted(value) + " for " + quoted(spec.key) + " (accepted: " +
         accepted_values(spec) + ")";
}

const option_spec* find_spec(std::string_view key) {
  for (const option_spec& spec : kSpecs) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

}  // namespace

std::string_view accepted_option_keys() noexcept { return {kJoinedKeys.data(), kJoinedKeys.size()}; }

std::string parse_options(std::string_view text, options& out, std::string_view source) {
  const std::string prefix = std::string(source) + ": ";
  options parsed = out;
  std::size_t at = 0;
  while (true) {
    at = text.find_first_not_of(kSeparators, at);
    if (at == std::string_view::npos) break;
    const std::size_t pair_at = at;
    // The key runs to '=' (or, for a malformed pair, to the next separator).
    const std::size_t end_of_key = text.find_first_of("=" + std::string(kSeparators), at);
    if (end_of_key == std::string_view::npos || text[end_of_key] != '=') {
      return prefix + "missing '=' in " + quoted(text.substr(at, end_of_key - at)) + " " + std::string(kFormat);
    }
    const std::string_view key = text.substr(at, end_of_key - at);
    const std::size_t value_at = end_of_key + 1;
    std::string_view value;
    if (value_at < text.size() && (text[value_at] == '\'' || text[value_at] == '"')) {
      // A quoted value may hold separators: log_path='/tmp/a b'. It ends at the same quote.
      const char quote = text[value_at];
      const std::size_t close = text.find(quote, value_at + 1);
      if (close == std::string_view::npos) {
        return prefix + "unterminated " + std::string(1, quote) + " quote in " + quoted(text.substr(at)) + " " +
               std::string(kFormat);
      }
      value = text.substr(value_at + 1, close - value_at - 1);
      at = close + 1;
      if (at < text.size() && kSeparators.find(text[at]) == std::string_view::npos) {
        const std::size_t end = text.find_first_of(kSeparators, at);
        const std::size_t len = end == std::string_view::npos ? end : end - pair_at;
        return prefix + "text after the closing quote in " + quoted(text.substr(pair_at, len)) + " " +
               std::string(kFormat);
      }
    } else {
      const std::size_t end = text.find_first_of(kSeparators, value_at);
      value = text.substr(value_at, end == std::string_view::npos ? std::string_view::npos : end - value_at);
      at = end == std::string_view::npos ? text.size() : end;
    }
    if (key.empty()) {
      return prefix + "missing key in " + quoted(text.substr(pair_at, at - pair_at)) + " " + std::string(kFormat);
    }
    const option_spec* spec = find_spec(key);
    if (spec == nullptr) {
      return prefix + "unknown key " + quoted(key) + " (accepted: " + std::string(accepted_option_keys()) + ")";
    }
    if (std::string error = apply(source, *spec, value, parsed); !error.empty()) return error;
  }
  out = std::move(parsed);
  return {};
}

}  // namespace lockgraph::detail
