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

struct option_spec {
  std::string_view key;
  std::variant<std::string options::*, bool options::*, bounded<int>, bounded<unsigned>> target;
};

constexpr std::array kSpecs = {
    option_spec{"report_dir", &options::report_dir},
    option_spec{"exitcode", bounded<int>{&options::exitcode, 255}},
    option_spec{"enabled", &options::enabled},
    option_spec{"abort_on_deadlock", &options::abort_on_deadlock},
    option_spec{"halt_on_report", &options::halt_on_report},
    option_spec{"long_wait_ms", bounded<unsigned>{&options::long_wait_ms, 86'400'000}},
    option_spec{"stack_depth", bounded<unsigned>{&options::stack_depth, 128}},
    option_spec{"print_reports", &options::print_reports},
    option_spec{"check_at_exit", &options::check_at_exit},
    option_spec{"dump_signal", bounded<int>{&options::dump_signal, 64}},
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

constexpr std::string_view kFormat = "(format: key=value:key=value)";

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};

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
          [&](std::string options::*) { return std::string(spec.key) + "=DIR"; },
          [](bool options::*) { return std::string("0 or 1"); },
          [](auto integer) { return "an integer from 0 to " + std::to_string(integer.max); },
      },
      spec.target);
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Applies one "key=value" to `out`; returns the error message, or an empty string.
std::string apply(const option_spec& spec, std::string_view value, options& out) {
  if (value.empty()) {
    return "LOCKGRAPH_OPTIONS: " + quoted(spec.key) + " needs a value (accepted: " + accepted_values(spec) +
           ")";
  }
  const bool ok = std::visit(
      overloaded{
          [&](std::string options::*field) {
            out.*field = std::string(value);
            return true;
          },
          [&](bool options::*field) { return parse_bool(value, out.*field); },
          [&](auto integer) {
            std::uint32_t parsed = 0;
            if (!parse_bounded(value, integer.max, parsed)) return false;
            integer.set(out, parsed);
            return true;
          },
      },
      spec.target);
  if (ok) return {};
  return "LOCKGRAPH_OPTIONS: bad value " + quoted(value) + " for " + quoted(spec.key) + " (accepted: " +
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

std::string parse_options(std::string_view text, options& out) {
  options parsed = out;
  while (!text.empty()) {
    const std::size_t colon = text.find(':');
    const std::string_view segment = text.substr(0, colon);
    text = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
    if (segment.empty()) continue;

    const std::size_t eq = segment.find('=');
    if (eq == std::string_view::npos) {
      return "LOCKGRAPH_OPTIONS: missing '=' in " + quoted(segment) + " " + std::string(kFormat);
    }
    if (eq == 0) return "LOCKGRAPH_OPTIONS: missing key in " + quoted(segment) + " " + std::string(kFormat);

    const std::string_view key = segment.substr(0, eq);
    const option_spec* spec = find_spec(key);
    if (spec == nullptr) {
      return "LOCKGRAPH_OPTIONS: unknown key " + quoted(key) + " (accepted: " +
             std::string(accepted_option_keys()) + ")";
    }
    if (std::string error = apply(*spec, segment.substr(eq + 1), parsed); !error.empty()) return error;
  }
  out = std::move(parsed);
  return {};
}

}  // namespace lockgraph::detail
