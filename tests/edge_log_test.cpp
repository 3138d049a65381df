// tests/edge_log_test.cpp: the edge log's format (report/edge_log.hpp): round trip, the header, the
// bound, and the one-line errors for malformed input.
#include "report/edge_log.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/subprocess.hpp"
#include "support/text.hpp"

namespace lockgraph::detail {
namespace {

edge_log two_edges() {
  edge_log log;
  log.pid = 4242;
  log.command = "./tests --gtest_filter=A.B \"quoted\"";
  logged_edge e;
  e.from = "cache_mu";
  e.to = "db.cpp:12";
  e.test = "Cache.Flush";
  e.thread = 3;
  e.thread_name = "worker\t1";
  e.site = "db.cpp:40 (flush)";
  e.stack = {"#0 0x4011d6 in flush() db.cpp:40", "#1 0x401301 in main main.cpp:9"};
  log.edges.push_back(e);
  logged_edge f;
  f.from = "rw\\lock\n";  // escapes survive
  f.to = "rw\\lock\n";
  f.from_shared = true;
  f.to_shared = true;
  f.site = "\x01";
  log.edges.push_back(f);
  return log;
}

std::string parse_error(const std::string& text) {
  edge_log out;
  return parse_edge_log(text, out);
}

constexpr const char* kHeader = "{\"lockgraph_edge_log\": 1, \"pid\": 7, \"command\": \"x\"}\n";

TEST(EdgeLog, RoundTripKeepsEveryField) {
  const edge_log in = two_edges();
  const std::string text = format_edge_log(in);
  edge_log out;
  ASSERT_EQ(parse_edge_log(text, out), "") << text;
  EXPECT_EQ(out.pid, 4242);
  EXPECT_EQ(out.command, in.command);
  EXPECT_FALSE(out.truncated);
  ASSERT_EQ(out.edges.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const logged_edge& a = in.edges[i];
    const logged_edge& b = out.edges[i];
    EXPECT_EQ(a.from, b.from);
    EXPECT_EQ(a.to, b.to);
    EXPECT_EQ(a.from_shared, b.from_shared);
    EXPECT_EQ(a.to_shared, b.to_shared);
    EXPECT_EQ(a.test, b.test);
    EXPECT_EQ(a.thread, b.thread);
    EXPECT_EQ(a.thread_name, b.thread_name);
    EXPECT_EQ(a.site, b.site);
    EXPECT_EQ(a.stack, b.stack);
  }
}

TEST(EdgeLog, OneJsonObjectPerLineHeaderFirst) {
  const std::string text = format_edge_log(two_edges());
  EXPECT_EQ(lgtest::count_of(text, "\n"), 3u);
  EXPECT_EQ(text.rfind("{\"lockgraph_edge_log\": 1, \"pid\": 4242, ", 0), 0u) << text;
  EXPECT_TRUE(lgtest::contains(text, "\"edges\": 2, \"truncated\": false, \"dropped\": 0}\n")) << text;
}

TEST(EdgeLog, BoundedWithTruncationNoted) {
  edge_log log = two_edges();
  const std::string text = format_edge_log(log, 1);
  edge_log out;
  ASSERT_EQ(parse_edge_log(text, out), "");
  EXPECT_EQ(out.edges.size(), 1u);
  EXPECT_TRUE(out.truncated);
  EXPECT_EQ(out.dropped, 1u);
  EXPECT_TRUE(lgtest::contains(text, "\"edges\": 1, \"truncated\": true, \"dropped\": 1}")) << text;
}

TEST(EdgeLog, UnknownKeysAndBlankLinesAreAccepted) {
  edge_log out;
  ASSERT_EQ(parse_edge_log(std::string(kHeader) + "\n{\"from\": \"a\", \"to\": \"b\", \"future\": [\"x\"], \"n\": null}\n",
                           out),
            "");
  ASSERT_EQ(out.edges.size(), 1u);
  EXPECT_EQ(out.edges[0].from, "a");
}

TEST(EdgeLog, MalformedLinesNameTheLine) {
  EXPECT_EQ(parse_error(""), "1: empty file (an edge log starts with a {\"lockgraph_edge_log\": 1, ...} line)");
  EXPECT_EQ(parse_error("{\"pid\": 1}\n"), "1: not an edge log: the first line has no \"lockgraph_edge_log\" version");
  EXPECT_EQ(parse_error("{\"lockgraph_edge_log\": 2}\n"), "1: edge log version 2 is not supported (accepted: 1)");
  EXPECT_EQ(parse_error(std::string(kHeader) + "{\"from\": \"a\"}\n"), "2: an edge needs \"from\" and \"to\"");
  EXPECT_EQ(parse_error(std::string(kHeader) + "{\"from\": \"a\", \"to\": \"b\"}\n{\"from\": \"a\", \"to\": \"b\""),
            "3: expected ',' or '}'");
  EXPECT_EQ(parse_error(std::string(kHeader) + "{\"from\": 1, \"to\": \"b\"}\n"), "2: \"from\" must be a string");
  EXPECT_EQ(parse_error(std::string(kHeader) + "{\"from\": \"a\", \"to\": \"b\"} x\n"), "2: text after the object");
  EXPECT_EQ(parse_error(std::string(kHeader) + "not json\n"), "2: expected '{' (one JSON object per line)");
  EXPECT_EQ(parse_error(std::string(kHeader) + "{\"from\": \"a\", \"to\": \"b\", \"stack\": [1]}\n"),
            "2: expected a string in an array (arrays hold strings) (value of \"stack\")");
}

}  // namespace
}  // namespace lockgraph::detail
