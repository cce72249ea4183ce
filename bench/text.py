"""Text scanning throughput: posts/s per core, Netwarden vs Python `re` vs threatexchange raw_text.

Same 280-character multilingual posts (en/es/ar, emoji, links; 1% carry an obfuscated term) and
the same synthetic 10k-term list of invented words for all three, in one run. Netwarden includes
normalization (fold + leet/spacing loose forms). Rates are per CPU-second (process_time), so a
machine shared with other jobs slows them less. Run: .venv/bin/python bench/text.py [--posts N]
"""

from __future__ import annotations

import argparse
import random
import re
import time

from netwarden.text.evaluate import benign_post, synthetic_list, variants
from netwarden.text.scanner import Scanner


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--terms", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--baseline-posts", type=int, default=1000)
    a = ap.parse_args()
    r = random.Random(42)
    tl = synthetic_list(a.terms, seed=1)
    posts = []
    for _ in range(a.posts):
        p = benign_post(r)
        if r.random() < 0.01:
            t = r.choice(tl.terms)
            p = (variants(t, r)[0][1] + " " + p)[:280]
        posts.append(p)
    t0 = time.process_time()
    sc = Scanner(tl)
    compile_s = time.process_time() - t0
    sc.scan_many(posts[:100])  # warm up tables
    t0 = time.process_time()
    nhits = 0
    for i in range(0, len(posts), a.batch):
        nhits += sum(len(h) for h in sc.scan_many(posts[i:i + a.batch]))
    nw = len(posts) / (time.process_time() - t0)

    words = sorted((t.term for t in tl.terms if t.mode != "regex"), key=len, reverse=True)
    rx = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.I)
    base = posts[: a.baseline_posts]
    t0 = time.process_time()
    for p in base:
        rx.findall(p)
    re_rate = len(base) / (time.process_time() - t0)

    from threatexchange.signal_type.raw_text import RawTextSignal

    sample_terms = words[: min(len(words), 10000)]
    tx_posts = base[: max(10, a.baseline_posts // 50)]
    t0 = time.process_time()
    for p in tx_posts:
        for w in sample_terms:
            RawTextSignal.matches_str(w, p)
    tx_rate = len(tx_posts) / (time.process_time() - t0)

    print(f"list: {len(tl)} invented terms; posts: {len(posts)} x 280 chars (en/es/ar); compile {compile_s:.2f} CPU-s; hits {nhits}")
    print(f"netwarden (hyperscan + normalization): {nw:12,.0f} posts/s per core")
    print(f"python re alternation (no normalization): {re_rate:9,.0f} posts/s per core  -> netwarden is {nw / re_rate:,.1f}x")
    print(f"threatexchange raw_text (per-term compare): {tx_rate:7,.1f} posts/s per core  -> netwarden is {nw / tx_rate:,.0f}x")


if __name__ == "__main__":
    main()
