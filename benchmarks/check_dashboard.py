"""Check that a published asv dashboard (``asv publish`` -> .asv/html) holds results.

    python benchmarks/check_dashboard.py [--html .asv/html] [--commit HASH] [BENCHMARK ...]

For the commit (default: ``git rev-parse HEAD``) and each benchmark named (default: every
benchmark the dashboard lists that has any result), the graph files must hold at least one
finite value filed under that commit. Prints one line per benchmark; exits 1 if any has none.
"""
import argparse
import json
import math
import pathlib
import subprocess
import sys


def _values(entry):
    """The numbers of one graph point: a value, or a list (one per parameter combination)."""
    v = entry[1]
    return v if isinstance(v, list) else [v]


def results_per_benchmark(html, commit):
    """{benchmark name: number of finite values filed under ``commit``}."""
    index = json.loads((html / "index.json").read_text())
    revisions = [int(r) for r, h in index["revision_to_hash"].items() if h.startswith(commit)]
    if not revisions:
        raise SystemExit(f"check_dashboard: commit {commit[:12]} is not on the dashboard "
                         f"(its commits: {sorted(index['revision_to_hash'].values())[:5]})")
    counts = {name: 0 for name in index["benchmarks"]}
    for path in (html / "graphs").rglob("*.json"):
        name = path.stem
        if name not in counts or "summary" in path.parts:
            continue
        for entry in json.loads(path.read_text()):
            if entry[0] in revisions:
                counts[name] += sum(1 for v in _values(entry)
                                    if isinstance(v, (int, float)) and math.isfinite(v))
    return counts


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("benchmarks", nargs="*", help="benchmark names (default: all with results)")
    p.add_argument("--html", default=".asv/html", help="the published dashboard")
    p.add_argument("--commit", default=None, help="commit hash (default: HEAD)")
    args = p.parse_args(argv)
    commit = args.commit or subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True,
                                           text=True, check=True).stdout.strip()
    counts = results_per_benchmark(pathlib.Path(args.html), commit)
    wanted = args.benchmarks or [name for name, n in counts.items() if n]
    if not wanted:
        print(f"check_dashboard: no benchmark has results for {commit[:12]}", file=sys.stderr)
        return 1
    bad = 0
    for name in wanted:
        n = counts.get(name)
        if n is None:
            print(f"{name}: not on the dashboard")
            bad += 1
        else:
            print(f"{name}: {n} results for {commit[:12]}")
            bad += n == 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
