#!/usr/bin/env python3
"""Tests of benchmarks/summarize.py on the small fixture in fixture/ (hand-written Google Benchmark JSON
with known ratios). Run: python3 -m unittest discover -s benchmarks/tests  (ctest: Benchmarks.Summarize)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "summarize.py")
FIXTURE = os.path.join(HERE, "fixture")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)


def rows(text):
    """Markdown table rows as lists of cells."""
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("| ")]


def row(text, first):
    found = [r for r in rows(text) if r[0] == first]
    if len(found) != 1:
        raise AssertionError(f"expected one row '{first}', found {len(found)}")
    return found[0]


class ReportFromFixture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        p = run("--results", FIXTURE)
        if p.returncode != 0:
            raise AssertionError(f"summarize.py failed ({p.returncode}): {p.stderr}")
        cls.out = p.stdout

    def test_ratios_use_the_median_and_ignore_other_aggregates(self):
        # 12 ns / 10 ns; the fixture's mean aggregate (999 ns) must not be used.
        self.assertEqual(row(self.out, "single lock/unlock"),
                         ["single lock/unlock", "10", "12", "1.20×", "40", "4.00×", "3.33×", "1.05×", "–"])

    def test_wall_time_cases_convert_units(self):
        # BM_*Contended/real_time: 0.1 us and 0.13 us, wall time.
        self.assertEqual(row(self.out, "2 threads contending on one lock, per acquisition")[1:4], ["100", "130", "1.30×"])

    def test_targets_are_judged(self):
        self.assertEqual(row(self.out, "single lock/unlock: lockgraph ≤ 1.2× std::mutex")[1:], ["1.20×", "yes"])
        self.assertEqual(row(self.out, "nested pair (known edge): lockgraph ≤ 1.3× std::mutex")[1:], ["1.50×", "**no**"])
        self.assertEqual(row(self.out, "≤ 64 bytes per live lock (sizeof lockgraph::mutex)")[1:], ["64 B", "yes"])

    def test_whole_process_uses_medians(self):
        # medians: std 1.0 s, lockgraph 1.25 s, TSan 4.0 s; overheads 0.25 s vs 3.0 s = 12x
        self.assertEqual(row(self.out, "1 × 1,000 nested pairs")[1:],
                         ["1.000", "1.250", "1.25×", "4.000", "4.0×", "3.2×", "12×"])

    def test_graph_and_memory_sections(self):
        self.assertEqual(row(self.out, "insert, shallow")[1:], ["1,000", "50", "40", "–", "1.25×"])
        self.assertEqual(row(self.out, "sizeof mutex")[1:], ["40", "64", "+24 B"])

    def test_missing_or_empty_files_leave_gaps_not_errors(self):
        # mutex_compiled_out.json is empty and there is no mutex_1thread.json.
        self.assertNotIn("never started a second thread", self.out)
        self.assertIn("abc1234", self.out)  # source_rev


class CommandLine(unittest.TestCase):
    def test_record_writes_the_results_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            md = os.path.join(tmp, "RESULTS.md")
            p = run("--results", FIXTURE, "--record", md)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(md, encoding="utf-8") as f:
                text = f.read()
            self.assertTrue(text.startswith("<!-- Written by scripts/bench.sh --record"))
            self.assertIn("# Benchmark results", text)
            self.assertNotIn("## lockgraph benchmark results", text)
            self.assertIn("| single lock/unlock | 10 | 12 | 1.20× |", text)

    def test_missing_results_directory_is_a_usage_error(self):
        p = run("--results", os.path.join(FIXTURE, "no-such-dir"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("not a directory", p.stderr)

    def test_run_loops_times_each_program_and_fails_on_a_failing_one(self):
        with tempfile.TemporaryDirectory() as tmp:
            results, bin_dir = os.path.join(tmp, "results"), os.path.join(tmp, "bin")
            os.makedirs(results)
            os.makedirs(bin_dir)
            for name in ("nested_loop_std", "nested_loop_lockgraph", "nested_loop_tsan"):
                path = os.path.join(bin_dir, name)
                with open(path, "w") as f:
                    f.write("#!/bin/sh\n[ \"$1\" = 7 ] || exit 3\n")  # checks it gets the iteration count
                os.chmod(path, 0o755)
            p = run("--results", results, "--run-loops", "--bin", bin_dir, "--loop-runs", "2", "--loop-iters", "7")
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(results, "whole_process.json")) as f:
                wp = json.load(f)
            self.assertEqual((wp["runs"], wp["iterations"]), (2, 7))
            self.assertEqual(sorted(wp["times"]), ["lockgraph/1", "lockgraph/2", "std/1", "std/2", "tsan/1", "tsan/2"])
            self.assertTrue(all(len(v) == 2 for v in wp["times"].values()))
            self.assertIn("| 2 × 7 nested pairs |", p.stdout)

            p = run("--results", results, "--run-loops", "--bin", bin_dir, "--loop-runs", "1", "--loop-iters", "8")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("failed with status 3", p.stderr)


if __name__ == "__main__":
    unittest.main()
