"""Run the benchmarks and write README's benchmark table from their own output.

    .venv/bin/python scripts/bench_table.py                    # full sizes, 3 repeats each, print the table
    .venv/bin/python scripts/bench_table.py --quick --write    # small sizes, and replace README's table
    .venv/bin/python scripts/bench_table.py --only graph,text --repeat 2

Each bench runs --repeat times in a fresh process; every figure in the table is the median of the
repeats with every repeat's value beside it, and the table says when it ran, on how many cores, and
the load average before each run (the machine is shared: the spread is part of the figure). The
figures are read from the lines each bench prints, by the patterns below; a bench whose output no
longer matches fails the script instead of leaving an old figure in place.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
NUM = r"([\d,]+(?:\.\d+)?)"


@dataclass
class Bench:
    key: str
    what: str
    args: list[str]
    quick: list[str]
    # figure name -> regex with one group (the number); all must match every run
    figures: dict[str, str]
    # how the row's "ours" and "peer" cells are written from the medians
    ours: str
    peer: str
    runs: list[dict[str, float]] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)


BENCHES = [
    Bench("graph", "seed expansion, whole warm call (rank, layer shares, paths, core)", ["bench/graph.py", "--edges", "10000000"],
          ["bench/graph.py", "--edges", "1000000", "--queries", "15", "--exact-queries", "3"],
          {"edges": r"graph: [\d,]+ accounts, " + NUM + " edges",
           "p95": r"whole expand_prepared .*? p95 " + NUM + " ms CPU",
           "mib": r"= " + NUM + " MiB per million edges",
           "exact_ms": r"exact PPR by scipy power iteration .*?: median " + NUM + " ms CPU",
           "push_ms": r"push median " + NUM + " ms",
           "overlap_lo": r"final two-stage ranking " + NUM + "-",
           "overlap_hi": r"final two-stage ranking [\d.]+-" + NUM},
          "p95 {p95} ms CPU at {edges} edges, {mib} MiB per million edges held",
          "exact PPR (scipy power iteration) {exact_ms} ms vs push {push_ms} ms; final top-200 overlap {overlap_lo}-{overlap_hi}"),
    Bench("index", "PDQ range search, clustered bank, radius 31", ["bench/index.py", "--size", "10000000", "--store-size", "0"],
          ["bench/index.py", "--size", "200000", "--queries", "2000", "--store-size", "0"],
          {"size": r"bank: " + NUM + " clustered hashes",
           "ours": r"faiss MultiHash 12x21 \(tuned\) nflip 1: .*?interleaved: " + NUM + " queries/s",
           "tuned": r"faiss MultiHash 12x21 \(tuned\)\s+" + NUM,
           "tuned_recall": r"faiss MultiHash 12x21 \(tuned\)\s+[\d,.]+\s+" + NUM,
           "ratio": r"faiss MultiHash 12x21 \(tuned\)\s+[\d,.]+\s+[\d.]+\s+" + NUM + "x",
           "default_ratio": r"faiss MultiHash 16x16 \(default\)\s+[\d,.]+\s+[\d.]+\s+" + NUM + "x",
           "recall": r"netwarden PdqIndex \(\w+\): recall " + NUM,
           "batch1": r"batch 1 " + NUM + " q/s",
           "bytes": r"\(" + NUM + " bytes per hash\\)"},
          "{ours} queries/s at {size} hashes, recall {recall}, {bytes} B/hash; one at a time {batch1} q/s",
          "faiss MultiHash tuned 12x21: {tuned} q/s, recall {tuned_recall} ({ratio}x); threatexchange default 16x16: {default_ratio}x"),
    Bench("text", "term scan, 10k terms, 280-char posts, normalization included", ["bench/text.py"],
          ["bench/text.py", "--posts", "5000", "--peer-posts", "2000", "--baseline-posts", "200"],
          {"ours": r"netwarden \(hyperscan, normalization included\)\s+" + NUM,
           "trie": r"python re, trie-factored, on the normalized form\(s\) \(\d+\)\s+" + NUM,
           "trie_x": r"python re, trie-factored, on the normalized form\(s\) \(\d+\)\s+[\d,]+\s+" + NUM + "x",
           "ac": r"pyahocorasick on netwarden's normalized form\(s\) \(\d+\)\s+" + NUM,
           "ac_x": r"pyahocorasick on netwarden's normalized form\(s\) \(\d+\)\s+[\d,]+\s+" + NUM + "x",
           "ac_raw": r"pyahocorasick, raw posts \(no normalization\)\s+" + NUM},
          "{ours} posts/CPU-s",
          "trie-factored re on the same normalized forms {trie} ({trie_x}x); pyahocorasick on them {ac} ({ac_x}x), on raw posts {ac_raw}"),
    Bench("media", "PDQ hashing of 4032x3024 JPEGs", ["bench/media.py"], ["bench/media.py", "--count", "6"],
          {"ours": r"netwarden hash_bytes \(fast path, 8 variants, md5\+sha\)\s+" + NUM,
           "red8": r"pdqhash on the same reduced decode, 8 variants \(peer\)\s+" + NUM,
           "x8": r"netwarden fast path / reduced-decode peer: [\d.]+x \(1 hash\), " + NUM + "x",
           "full": r"pdqhash on full Pillow decode \(peer\)\s+" + NUM,
           "bits": r"fast path vs reduced-decode peer: max " + NUM + " bits"},
          "{ours} images/CPU-s (8 variants, MD5+SHA-256)",
          "pdqhash on the same reduced decode, 8 variants: {red8} ({x8}x, {bits} bits apart); on a full decode: {full}"),
    Bench("stream", "stream path per core (decode, write, text, hash lookup, Kafka consume)", ["bench/stream.py"],
          ["bench/stream.py", "--posts", "30000", "--repeat", "1"],
          {"rate": r"=> " + NUM + " posts/s per core"},
          "{rate} posts/s per core", ""),
]


def run(b: Bench, quick: bool, env: dict) -> dict[str, float]:
    argv = [sys.executable, *(b.quick if quick else b.args)]
    b.loads.append(os.getloadavg()[0])
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    got = {}
    for name, pat in b.figures.items():
        m = re.search(pat, out.stdout)
        if m is None:
            raise SystemExit(f"{' '.join(argv[1:])}: no figure {name!r} in its output (pattern {pat!r}); "
                             f"the bench changed its output, update scripts/bench_table.py\n{out.stdout[-3000:]}")
        got[name] = float(m.group(1).replace(",", ""))
    return got


def fmt(x: float, key: str = "") -> str:
    if "recall" in key:
        return f"{x:.4f}"
    if "overlap" in key:
        return f"{x:.2f}"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}" if x < 1 else f"{x:.2f}"


def cell(template: str, b: Bench, spread: tuple[str, ...]) -> str:
    med = {k: statistics.median(r[k] for r in b.runs) for k in b.runs[0]}
    text = template.format(**{k: fmt(v, k) for k, v in med.items()})
    if len(b.runs) > 1:
        for k in spread:
            if k in med and "{" + k + "}" in template:
                text += f" (runs: {', '.join(fmt(r[k], k) for r in b.runs)})"
                break
    return text


def table(benches: list[Bench], quick: bool, started: str) -> str:
    lines = [f"Generated by `scripts/bench_table.py{' --quick' if quick else ''}` on {started} UTC, "
             f"{os.cpu_count()} cores shared with other sessions; each figure the median of "
             f"{len(benches[0].runs)} run(s), every run beside it; load average before each run: "
             + "; ".join(f"{b.key} {', '.join(f'{x:.1f}' for x in b.loads)}" for b in benches) + ".",
             "", "| what | command | ours | peer, same run |", "|---|---|---|---|"]
    for b in benches:
        cmd = " ".join(b.quick if quick else b.args)
        lines.append(f"| {b.what} | `{cmd}` | {cell(b.ours, b, ('p95', 'ours', 'rate'))} | "
                     f"{cell(b.peer, b, ('ratio', 'trie_x', 'x8')) if b.peer else ''} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes (minutes, not an hour)")
    ap.add_argument("--only", help="comma list of benches: " + ",".join(b.key for b in BENCHES))
    ap.add_argument("--write", action="store_true", help=f"replace the table between {START} and {END} in README.md")
    a = ap.parse_args()
    chosen = [b for b in BENCHES if not a.only or b.key in a.only.split(",")]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    for i in range(a.repeat):
        for b in chosen:  # interleaved: a slow minute on the host falls on every bench alike
            print(f"[{i + 1}/{a.repeat}] {b.key} ...", file=sys.stderr, flush=True)
            b.runs.append(run(b, a.quick, env))
    out = table(chosen, a.quick, started)
    print(out)
    if a.write:
        text = README.read_text()
        if START not in text or END not in text:
            raise SystemExit(f"README.md has no {START} ... {END} markers")
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        README.write_text(head + START + "\n" + out + "\n" + END + tail)
        print(f"wrote the table into {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
