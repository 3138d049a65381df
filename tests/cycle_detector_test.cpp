// cycle_detector_test.cpp: the incremental cycle detector, on hand-built scenarios and against a naive
// reference graph under random operations.
#include "graph/cycle_detector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace lockgraph::detail {
namespace {

using node_id = cycle_detector::node_id;

// Most scenarios name nodes by small integers, created on first mention, so that expectations read
// like the graph drawn on a whiteboard: Path(2, 17) == "2 4 8 16 17".
class CycleDetector : public ::testing::Test {
 protected:
  node_id Node(int label) {
    auto [it, inserted] = ids_.try_emplace(label, 0);
    if (inserted) {
      it->second = graph_.new_node();
      labels_[it->second] = label;
    }
    return it->second;
  }
  bool Insert(int from, int to) { return graph_.insert_edge(Node(from), Node(to)); }
  bool HasEdge(int from, int to) { return graph_.has_edge(Node(from), Node(to)); }
  void RemoveEdge(int from, int to) { graph_.remove_edge(Node(from), Node(to)); }

  // The labels of find_path(from, to, max_len), space separated; "" when there is no path.
  std::string Path(int from, int to, std::size_t max_len = 0, bool* truncated = nullptr) {
    return Labels(graph_.find_path(Node(from), Node(to), max_len, truncated));
  }
  // The labels of n's successors or predecessors, ascending.
  std::string Successors(int n) {
    std::vector<node_id> ids;
    graph_.for_each_successor(Node(n), [&](node_id s) { ids.push_back(s); });
    return SortedLabels(ids);
  }
  std::string Predecessors(int n) {
    std::vector<node_id> ids;
    graph_.for_each_predecessor(Node(n), [&](node_id p) { ids.push_back(p); });
    return SortedLabels(ids);
  }

  std::string Labels(const std::vector<node_id>& ids) const {
    std::string out;
    for (node_id id : ids) {
      if (!out.empty()) out += ' ';
      const auto it = labels_.find(id);
      out += it == labels_.end() ? "?" : std::to_string(it->second);
    }
    return out;
  }
  std::string SortedLabels(std::vector<node_id> ids) const {
    std::sort(ids.begin(), ids.end(), [&](node_id a, node_id b) { return labels_.at(a) < labels_.at(b); });
    return Labels(ids);
  }

  cycle_detector graph_;
  std::map<int, node_id> ids_;
  std::map<node_id, int> labels_;
};

// A deliberately simple graph to check the detector against: adjacency sets, and reachability by
// exhaustive search.
class reference_graph {
 public:
  void add_node(node_id n) { out_[n]; }
  void remove_node(node_id n) {
    out_.erase(n);
    for (auto& [from, succs] : out_) succs.erase(n);
  }
  void add_edge(node_id from, node_id to) { out_[from].insert(to); }
  void remove_edge(node_id from, node_id to) { out_[from].erase(to); }
  bool has_edge(node_id from, node_id to) const {
    const auto it = out_.find(from);
    return it != out_.end() && it->second.count(to) != 0;
  }
  const std::set<node_id>& successors(node_id n) const { return out_.at(n); }
  std::set<node_id> predecessors(node_id n) const {
    std::set<node_id> preds;
    for (const auto& [from, succs] : out_) {
      if (succs.count(n) != 0) preds.insert(from);
    }
    return preds;
  }
  std::size_t edge_count() const {
    std::size_t n = 0;
    for (const auto& [from, succs] : out_) n += succs.size();
    return n;
  }

  // Number of edges on a shortest path from -> to, or -1 if `to` is unreachable.
  int distance(node_id from, node_id to) const {
    std::map<node_id, int> dist{{from, 0}};
    std::deque<node_id> queue{from};
    while (!queue.empty()) {
      const node_id n = queue.front();
      queue.pop_front();
      if (n == to) return dist[n];
      for (node_id s : out_.at(n)) {
        if (dist.try_emplace(s, dist[n] + 1).second) queue.push_back(s);
      }
    }
    return -1;
  }

 private:
  std::map<node_id, std::set<node_id>> out_;
};

// Whether `path` runs from `from` to `to` along edges of `ref` and is as short as any such path.
::testing::AssertionResult IsShortestPath(const reference_graph& ref, const std::vector<node_id>& path,
                                          node_id from, node_id to) {
  if (path.empty()) return ::testing::AssertionFailure() << "empty path";
  if (path.front() != from || path.back() != to) return ::testing::AssertionFailure() << "wrong endpoints";
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    if (!ref.has_edge(path[i], path[i + 1])) return ::testing::AssertionFailure() << "no edge at step " << i;
  }
  const int shortest = ref.distance(from, to);
  if (static_cast<int>(path.size()) - 1 != shortest) {
    return ::testing::AssertionFailure() << path.size() - 1 << " edges, shortest is " << shortest;
  }
  return ::testing::AssertionSuccess();
}

TEST_F(CycleDetector, RejectsSelfLoop) {
  EXPECT_FALSE(Insert(1, 1));
  EXPECT_FALSE(HasEdge(1, 1));
  EXPECT_EQ(graph_.edge_count(), 0u);
}

TEST_F(CycleDetector, RejectsEdgeThatClosesCycle) {
  // Cycle: 1->2->3->1. The closing edge is refused and the graph keeps its two edges.
  EXPECT_TRUE(Insert(1, 2));
  EXPECT_TRUE(Insert(2, 3));
  EXPECT_FALSE(Insert(3, 1));
  EXPECT_FALSE(HasEdge(3, 1));
  EXPECT_EQ(graph_.edge_count(), 2u);
  // What a report prints: the path back from the refused edge's target to its source.
  EXPECT_EQ(Path(1, 3), "1 2 3");
  EXPECT_TRUE(graph_.test_only_check_invariants());

  // Cycle of two: 2->3 exists, so 3->2 is refused too.
  EXPECT_FALSE(Insert(3, 2));
}

TEST_F(CycleDetector, DuplicateEdgeIsAcceptedOnce) {
  EXPECT_TRUE(Insert(1, 2));
  EXPECT_TRUE(Insert(1, 2));
  EXPECT_EQ(graph_.edge_count(), 1u);
  EXPECT_EQ(Successors(1), "2");
}

TEST_F(CycleDetector, ReordersNodesCreatedInTheWrongOrder) {
  // Chain: 5->4->3->2->1, every edge against creation order.
  for (int i = 1; i <= 5; ++i) Node(i);
  for (int i = 5; i > 1; --i) {
    EXPECT_TRUE(Insert(i, i - 1));
    EXPECT_TRUE(graph_.test_only_check_invariants());
  }
  // Cycle: 1->5->4->3->2->1.
  EXPECT_FALSE(Insert(1, 5));
  EXPECT_EQ(Path(5, 1), "5 4 3 2 1");
  // A shortcut along the chain is fine.
  EXPECT_TRUE(Insert(5, 2));
  EXPECT_EQ(Path(5, 1), "5 2 1");
}

TEST_F(CycleDetector, InvalidIdsAreIgnored) {
  const node_id a = Node(1);
  EXPECT_FALSE(graph_.valid(0));
  EXPECT_TRUE(graph_.insert_edge(0, a));
  EXPECT_TRUE(graph_.insert_edge(a, 0));
  EXPECT_FALSE(graph_.has_edge(a, 0));
  EXPECT_TRUE(graph_.find_path(a, 0).empty());
  graph_.remove_edge(a, 0);
  graph_.remove_node(0);
  EXPECT_EQ(graph_.node_count(), 1u);
  EXPECT_EQ(graph_.edge_count(), 0u);
}

TEST_F(CycleDetector, RemovedIdStaysInvalidWhenItsSlotIsReused) {
  const node_id a = graph_.new_node();
  const node_id b = graph_.new_node();
  ASSERT_TRUE(graph_.insert_edge(a, b));
  graph_.remove_node(a);
  EXPECT_FALSE(graph_.valid(a));
  EXPECT_EQ(graph_.node_count(), 1u);

  // The next node takes a's slot (same low half) under a new generation, so a stays dead.
  const node_id c = graph_.new_node();
  EXPECT_EQ(static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(a));
  EXPECT_NE(c, a);
  EXPECT_TRUE(graph_.valid(c));
  EXPECT_FALSE(graph_.valid(a));

  // Nothing done through the stale id reaches c: a's edge is gone, and new ones are ignored.
  EXPECT_FALSE(graph_.has_edge(c, b));
  EXPECT_TRUE(graph_.insert_edge(a, b));
  EXPECT_FALSE(graph_.has_edge(c, b));
  EXPECT_EQ(graph_.edge_count(), 0u);
  graph_.remove_node(a);
  EXPECT_TRUE(graph_.valid(c));
  EXPECT_TRUE(graph_.test_only_check_invariants());
}

TEST_F(CycleDetector, RemovingNodeRemovesItsEdges) {
  // Diamond: 1->2->4, 1->3->4; then 2 goes.
  EXPECT_TRUE(Insert(1, 2));
  EXPECT_TRUE(Insert(1, 3));
  EXPECT_TRUE(Insert(2, 4));
  EXPECT_TRUE(Insert(3, 4));
  graph_.remove_node(Node(2));
  EXPECT_EQ(graph_.edge_count(), 2u);
  EXPECT_EQ(Successors(1), "3");
  EXPECT_EQ(Predecessors(4), "3");
  EXPECT_EQ(Path(1, 4), "1 3 4");
  EXPECT_TRUE(graph_.test_only_check_invariants());

  // With 3 gone too, 4 no longer reaches back to 1.
  graph_.remove_node(Node(3));
  EXPECT_TRUE(Insert(4, 1));
}

TEST_F(CycleDetector, RemovingEdgeAllowsItsReverse) {
  EXPECT_TRUE(Insert(1, 2));
  EXPECT_FALSE(Insert(2, 1));
  RemoveEdge(1, 2);
  EXPECT_FALSE(HasEdge(1, 2));
  EXPECT_TRUE(Insert(2, 1));
  EXPECT_EQ(graph_.edge_count(), 1u);
  RemoveEdge(1, 2);  // absent: no-op
  EXPECT_EQ(graph_.edge_count(), 1u);
}

TEST_F(CycleDetector, FindPathReturnsShortestPath) {
  // Ladder: i->i+1 and i->2i over 1..16, then 16->17. The doubling rungs are the shortcuts.
  for (int i = 1; i < 16; ++i) {
    EXPECT_TRUE(Insert(i, i + 1));
    if (2 * i <= 16) {
      EXPECT_TRUE(Insert(i, 2 * i));
    }
  }
  EXPECT_TRUE(Insert(16, 17));
  EXPECT_EQ(Path(1, 16), "1 2 4 8 16");
  EXPECT_EQ(Path(2, 17), "2 4 8 16 17");
  EXPECT_EQ(Path(3, 7), "3 6 7");
  EXPECT_EQ(Path(5, 5), "5");
  EXPECT_EQ(Path(16, 1), "");  // wrong direction
  Node(99);
  EXPECT_EQ(Path(1, 99), "");  // unconnected
}

TEST_F(CycleDetector, FindPathTruncatesToMaxLen) {
  // Chain: 1->2->...->10.
  for (int i = 1; i < 10; ++i) ASSERT_TRUE(Insert(i, i + 1));
  bool truncated = false;
  EXPECT_EQ(Path(1, 10, 4, &truncated), "1 2 3 4");
  EXPECT_TRUE(truncated);
  EXPECT_EQ(Path(1, 10, 10, &truncated), "1 2 3 4 5 6 7 8 9 10");
  EXPECT_FALSE(truncated);
  EXPECT_EQ(Path(1, 10, 0, &truncated), "1 2 3 4 5 6 7 8 9 10");
  EXPECT_FALSE(truncated);
  EXPECT_EQ(Path(10, 1, 4, &truncated), "");
  EXPECT_FALSE(truncated);
}

TEST_F(CycleDetector, VisitsSuccessorsAndPredecessors) {
  // Star: 1->{2,3,4}, {5,6}->1.
  for (int to : {2, 3, 4}) ASSERT_TRUE(Insert(1, to));
  for (int from : {5, 6}) ASSERT_TRUE(Insert(from, 1));
  EXPECT_EQ(Successors(1), "2 3 4");
  EXPECT_EQ(Predecessors(1), "5 6");
  EXPECT_EQ(Successors(2), "");
  EXPECT_EQ(Predecessors(2), "1");
}

TEST_F(CycleDetector, HubWithThousandsOfEdges) {
  // Hub: 1..3000 -> 0 -> 3001..6000. The hub's sets outgrow the small-array form and become hash
  // tables; they must stay exact as they grow, shrink and go back.
  constexpr int kSide = 3000;
  for (int i = 1; i <= kSide; ++i) {
    ASSERT_TRUE(Insert(i, 0));
    ASSERT_TRUE(Insert(0, kSide + i));
  }
  EXPECT_EQ(graph_.edge_count(), 2u * kSide);
  for (int i = 1; i <= kSide; ++i) {
    ASSERT_TRUE(HasEdge(i, 0));
    ASSERT_TRUE(HasEdge(0, kSide + i));
    ASSERT_FALSE(HasEdge(0, i));
    ASSERT_TRUE(Insert(0, kSide + i));  // duplicate
    ASSERT_FALSE(Insert(kSide + i, i)) << i;
  }
  EXPECT_EQ(graph_.edge_count(), 2u * kSide);
  EXPECT_TRUE(graph_.test_only_check_invariants());

  // Remove all but every 100th edge, half by remove_edge and half by removing the far node.
  for (int i = 1; i <= kSide; ++i) {
    if (i % 100 == 0) continue;
    RemoveEdge(i, 0);
    graph_.remove_node(Node(kSide + i));
  }
  EXPECT_EQ(graph_.edge_count(), 2u * kSide / 100);
  for (int i = 1; i <= kSide; ++i) {
    ASSERT_EQ(HasEdge(i, 0), i % 100 == 0);
    if (i % 100 == 0) {
      ASSERT_TRUE(HasEdge(0, kSide + i));
    }
  }
  EXPECT_EQ(Path(100, 3200), "100 0 3200");
  EXPECT_TRUE(graph_.test_only_check_invariants());
}

// Forward edges of a random DAG, inserted in shuffled order, never report a cycle; and once all
// are in, the reverse of every one of them is refused.
TEST_F(CycleDetector, ForwardEdgesOfRandomDagNeverReportCycle) {
  constexpr int kNodes = 2000;
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    cycle_detector graph;
    std::vector<node_id> ids(kNodes);
    for (node_id& id : ids) id = graph.new_node();
    // The DAG's own order is a hidden permutation of creation order, so the detector has to
    // reorder its nodes as edges come in.
    std::vector<node_id> topo = ids;
    std::shuffle(topo.begin(), topo.end(), rng);
    std::vector<std::pair<node_id, node_id>> edges;
    for (int i = 0; i + 1 < kNodes; ++i) {
      std::uniform_int_distribution<int> ahead(i + 1, std::min(kNodes - 1, i + 64));
      for (int k = 0; k < 4; ++k) edges.emplace_back(topo[i], topo[ahead(rng)]);
    }
    std::shuffle(edges.begin(), edges.end(), rng);
    for (std::size_t i = 0; i < edges.size(); ++i) {
      ASSERT_TRUE(graph.insert_edge(edges[i].first, edges[i].second)) << "edge #" << i;
      if (i % 1000 == 0) {
        ASSERT_TRUE(graph.test_only_check_invariants());
      }
    }
    ASSERT_TRUE(graph.test_only_check_invariants());
    for (const auto& [from, to] : edges) {
      ASSERT_FALSE(graph.insert_edge(to, from));
      ASSERT_EQ(graph.find_path(from, to).size(), 2u);
    }
  }
}

// Runs `steps` random operations on a graph of about `live_nodes` nodes, checking each against
// reference_graph: every insert_edge result, has_edge, find_path, the neighbor visits, the counts and
// the internal invariants.
void RunRandomOperations(std::uint32_t seed, int live_nodes, int steps) {
  std::mt19937 rng(seed);
  cycle_detector graph;
  reference_graph ref;
  std::vector<node_id> live;
  std::vector<node_id> dead;
  for (int i = 0; i < live_nodes; ++i) {
    live.push_back(graph.new_node());
    ref.add_node(live.back());
  }
  const auto pick = [&](const std::vector<node_id>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };

  for (int step = 0; step < steps; ++step) {
    SCOPED_TRACE(step);
    const node_id a = pick(live);
    const node_id b = pick(live);
    const int op = std::uniform_int_distribution<int>(0, 99)(rng);
    if (op < 55) {
      // A quarter of the insertions touch the first live node, a hub whose adjacency sets outgrow
      // the small-array form.
      const bool via_hub = step % 4 == 0;
      const node_id from = via_hub && op % 2 == 0 ? live.front() : a;
      const node_id to = via_hub && op % 2 == 1 ? live.front() : b;
      // Inserting from->to must fail exactly when `to` already reaches `from`.
      const bool acyclic = from != to && ref.distance(to, from) < 0;
      ASSERT_EQ(graph.insert_edge(from, to), acyclic);
      if (acyclic) {
        ref.add_edge(from, to);
      } else {
        ASSERT_TRUE(IsShortestPath(ref, graph.find_path(to, from), to, from));
      }
    } else if (op < 75) {
      graph.remove_edge(a, b);
      ref.remove_edge(a, b);
    } else if (op < 80) {
      // Replace a node: its id dies, and the replacement's id must be new.
      graph.remove_node(a);
      ref.remove_node(a);
      ASSERT_FALSE(graph.valid(a));
      std::erase(live, a);
      dead.push_back(a);
      const node_id fresh = graph.new_node();
      ASSERT_TRUE(graph.valid(fresh));
      ASSERT_EQ(std::count(dead.begin(), dead.end(), fresh), 0);
      live.push_back(fresh);
      ref.add_node(fresh);
    } else if (op < 85 && !dead.empty()) {
      // Stale ids are inert.
      const node_id stale = pick(dead);
      ASSERT_FALSE(graph.valid(stale));
      ASSERT_TRUE(graph.insert_edge(stale, a));
      ASSERT_TRUE(graph.insert_edge(a, stale));
      ASSERT_FALSE(graph.has_edge(stale, a));
      ASSERT_TRUE(graph.find_path(stale, a).empty());
      graph.remove_edge(a, stale);
      graph.remove_node(stale);
    } else {
      const std::vector<node_id> path = graph.find_path(a, b);
      if (ref.distance(a, b) < 0) {
        ASSERT_TRUE(path.empty());
      } else {
        ASSERT_TRUE(IsShortestPath(ref, path, a, b));
      }
    }

    ASSERT_TRUE(graph.test_only_check_invariants());
    ASSERT_EQ(graph.node_count(), live.size());
    ASSERT_EQ(graph.edge_count(), ref.edge_count());
    // The whole adjacency matrix when it is small or now and then, otherwise one node's row and
    // column.
    const node_id n = pick(live);
    if (live.size() <= 32 || step % 250 == 0) {
      for (node_id from : live) {
        for (node_id to : live) ASSERT_EQ(graph.has_edge(from, to), ref.has_edge(from, to));
      }
    } else {
      for (node_id m : live) {
        ASSERT_EQ(graph.has_edge(n, m), ref.has_edge(n, m));
        ASSERT_EQ(graph.has_edge(m, n), ref.has_edge(m, n));
      }
    }
    std::set<node_id> succs;
    std::set<node_id> preds;
    graph.for_each_successor(n, [&](node_id s) { succs.insert(s); });
    graph.for_each_predecessor(n, [&](node_id p) { preds.insert(p); });
    ASSERT_EQ(succs, ref.successors(n));
    ASSERT_EQ(preds, ref.predecessors(n));
  }
}

TEST_F(CycleDetector, MatchesReferenceUnderRandomOperations) {
  // Few nodes: random edges close cycles often, and paths have several hops.
  for (std::uint32_t seed : {11u, 22u, 33u, 44u, 55u}) {
    SCOPED_TRACE(seed);
    ASSERT_NO_FATAL_FAILURE(RunRandomOperations(seed, 24, 4000));
  }
}

TEST_F(CycleDetector, MatchesReferenceUnderRandomOperationsOnLargerGraph) {
  // Enough nodes for reorders of hundreds of nodes, and for adjacency sets to become hash tables.
  for (std::uint32_t seed : {66u, 77u}) {
    SCOPED_TRACE(seed);
    ASSERT_NO_FATAL_FAILURE(RunRandomOperations(seed, 300, 3000));
  }
}

// Chain: c[0]->c[1]->...->c[N-1] with N = 1M, inserted tail first; all of it agrees with creation
// order. Then a new node h goes in front with h->c[0]: the whole chain lies in the affected region,
// so that single insertion searches a million nodes deep and moves every one of them. Closing the
// cycle c[N-1]->h and spelling it out take million-deep searches too. Any recursion would overflow
// the stack.
TEST_F(CycleDetector, MillionNodeChainNeedsNoRecursion) {
  constexpr std::size_t kN = 1'000'000;
  std::vector<node_id> chain(kN);
  for (node_id& id : chain) id = graph_.new_node();
  for (std::size_t i = kN - 1; i-- > 0;) ASSERT_TRUE(graph_.insert_edge(chain[i], chain[i + 1]));
  const node_id head = graph_.new_node();
  ASSERT_TRUE(graph_.insert_edge(head, chain.front()));
  EXPECT_FALSE(graph_.insert_edge(chain.back(), head));

  const std::vector<node_id> path = graph_.find_path(head, chain.back());
  ASSERT_EQ(path.size(), kN + 1);
  EXPECT_EQ(path.front(), head);
  EXPECT_TRUE(std::equal(chain.begin(), chain.end(), path.begin() + 1));
  bool truncated = false;
  EXPECT_EQ(graph_.find_path(head, chain.back(), 3, &truncated),
            (std::vector<node_id>{head, chain[0], chain[1]}));
  EXPECT_TRUE(truncated);
  EXPECT_TRUE(graph_.test_only_check_invariants());
}

// Memory follows what is live: removing every node gives back all edge storage, leaving the slot
// table (which later nodes reuse), and rebuilding the same graph again and again does not grow it.
TEST_F(CycleDetector, MemoryIsReleasedWhenNodesAreRemoved) {
  constexpr int kNodes = 10'000;
  std::size_t nodes_only = 0;
  std::vector<std::size_t> peak;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    std::mt19937 rng(7);  // the same graph every round
    std::vector<node_id> ids(kNodes);
    for (node_id& id : ids) id = graph_.new_node();
    if (round == 0) nodes_only = graph_.memory_bytes();
    // Mostly a few edges per node, plus a hub whose sets become hash tables.
    for (int i = 0; i + 1 < kNodes; ++i) {
      for (int k = 0; k < 4; ++k) {
        const int to = std::uniform_int_distribution<int>(i + 1, std::min(kNodes - 1, i + 64))(rng);
        ASSERT_TRUE(graph_.insert_edge(ids[i], ids[to]));
      }
      ASSERT_TRUE(graph_.insert_edge(ids[0], ids[i + 1]));
    }
    peak.push_back(graph_.memory_bytes());
    // Small sets live in the node table; the hub's do not.
    EXPECT_GE(peak.back() - nodes_only, (kNodes - 1) * sizeof(std::uint32_t));

    // Newest first, so that the next round gets the same slots back in the same order: the same
    // graph, laid out the same way, should take the same memory.
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) graph_.remove_node(*it);
    EXPECT_EQ(graph_.node_count(), 0u);
    EXPECT_EQ(graph_.edge_count(), 0u);
    // What remains is the slot table and the list of free slots; no edge storage.
    EXPECT_LE(graph_.memory_bytes(), nodes_only + 2 * kNodes * sizeof(std::uint32_t));
    EXPECT_TRUE(graph_.test_only_check_invariants());
  }
  EXPECT_EQ(peak[2], peak[1]);
  EXPECT_LE(peak[1], peak[0] + 2 * kNodes * sizeof(std::uint32_t));
}

}  // namespace
}  // namespace lockgraph::detail
