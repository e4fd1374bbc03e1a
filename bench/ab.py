"""A/B: one bench, run alternately on this working tree (A) and on a git revision (B), to tell what a change costs.

B is checked out in a temporary git worktree and run with the same Python. A bench imports the code of the tree it
lives in (bench/harness.py puts its tree first on sys.path, and its servers run from that tree). Pairs run in
alternating order (AB, BA, AB, ...), so that a drift in machine load falls on both sides alike. The summary's
figures are read from each run's results JSON (its `summary`, else its `results`): the values named in FIGURES. The
table gives each figure's median for A and for B, and A's change against B.

    .venv/bin/python bench/ab.py --base HEAD --pairs 3 tracking.py -- --duration 10 --rounds 1
    .venv/bin/python bench/ab.py --base main~1 graphql_read.py -- --rounds 1

Results: bench/results/ab-<bench>-<timestamp>.json, with every run's figures.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import PROJECT_ROOT, utc_stamp, write_json

FIGURES = ("ratio", "requests_per_second", "p99_ms", "rows_per_second", "median_ms", "rest_rps", "graphql_rps",
           "rest_p99_ms", "graphql_p99_ms")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", default="HEAD", help="the git revision to compare with (default HEAD)")
    parser.add_argument("--pairs", type=int, default=3, help="A and B runs each (default 3)")
    parser.add_argument("bench", help="the bench script in bench/, e.g. tracking.py")
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="after --: the bench's own arguments")
    args = parser.parse_args(argv)
    args.bench_args = [a for a in args.bench_args if a != "--"]
    if args.pairs <= 0 or not (PROJECT_ROOT / "bench" / args.bench).is_file():
        parser.error("--pairs must be positive and BENCH a file in bench/")
    return args


def figures(report: dict) -> dict[str, float]:
    """The summary's figures, by dotted path."""
    found: dict[str, float] = {}

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else key)
        elif isinstance(value, int | float) and not isinstance(value, bool) and path.rsplit(".", 1)[-1] in FIGURES:
            found[path] = float(value)

    walk(report.get("summary") or report.get("results", {}), "")
    return found


def run_once(tree: Path, bench: str, bench_args: list[str]) -> dict[str, float]:
    """Run ``bench`` from ``tree``; the figures of the results JSON it names last ('results: PATH' or 'written to
    PATH')."""
    done = subprocess.run([sys.executable, str(tree / "bench" / bench), *bench_args], cwd=tree, capture_output=True,
                          text=True, env={"QUALTRACK_ENV": "test", **os.environ})
    written = [match.group(1) for match in re.finditer(r"^(?:written to|results:) (\S+\.json)$", done.stdout, re.M)]
    if done.returncode != 0 or not written:
        raise SystemExit(f"{bench} failed in {tree} (exit {done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")
    return figures(json.loads((tree / written[-1]).read_text()))


def main(argv=None) -> int:
    args = parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    with tempfile.TemporaryDirectory(prefix="qualtrack-ab-") as scratch:
        base_tree = Path(scratch) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(base_tree), args.base],
                       cwd=PROJECT_ROOT, check=True)
        try:
            trees = {"A": PROJECT_ROOT, "B": base_tree}
            for pair in range(args.pairs):
                for side in ("AB" if pair % 2 == 0 else "BA"):
                    print(f"pair {pair + 1}/{args.pairs}: {side} ({args.bench})", flush=True)
                    runs[side].append(run_once(trees[side], args.bench, args.bench_args))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=PROJECT_ROOT, check=False)
    medians = {side: {path: statistics.median(run[path] for run in side_runs if path in run)
                      for path in side_runs[0]} for side, side_runs in runs.items()}
    print(f"\nA = working tree, B = {args.base}; medians of {args.pairs} runs each")
    print(f"{'figure':64} {'A':>10} {'B':>10} {'A/B':>8}")
    for path, value_a in medians["A"].items():
        value_b = medians["B"].get(path)
        change = f"{value_a / value_b - 1:+.1%}" if value_b else "-"
        print(f"{path:64} {value_a:10.3f} {value_b if value_b is not None else float('nan'):10.3f} {change:>8}")
    path = write_json(f"ab-{Path(args.bench).stem}", {"base": args.base, "bench": args.bench,
                                                       "bench_args": args.bench_args, "runs": runs,
                                                       "medians": medians, "measured_at": utc_stamp()})
    print(f"\nresults: {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
