"""truth.json and bank.csv: what was planted, kept apart from the events. See docs/worlds.md."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson

from .ids import account_id
from .networks import Network

TRUTH_FORMAT = "netwarden-world-truth/1"


def network_truth(net: Network) -> dict:
    members = [account_id(m.idx) for m in net.members]
    return {
        "id": net.id,
        "size": len(members),
        "camouflage": net.camouflage,
        "camouflage_style": net.style,
        "camouflage_community": net.community,
        "low_tie": [account_id(m.idx) for m in net.members if m.low_tie],
        "unwitting": [account_id(i) for i in net.unwitting],
        "members": members,
        "roles": {account_id(m.idx): m.role for m in net.members},
        "protected": [account_id(m.idx) for m in net.members if m.protected],
        "suspended": [account_id(m.idx) for m in net.members if m.suspended_at is not None],
        "hashtags": list(net.hashtags),
        "shared_handles": [{
            "platform": net.shared["platform"], "handle": net.shared["handle"],
            "members": [account_id(i) for i in net.shared["members"]],
        }] if net.shared["members"] else [],
        "contacts": {account_id(m.idx): [{"platform": p, "handle": h} for p, h in m.contacts] for m in net.members if m.contacts},
        "known_media": [{
            "label": k.label, "uri": k.original.uri, "pdq": k.original.pdq, "md5": k.original.md5,
            "variants": [{"kind": kind, "uri": f.uri, "pdq": f.pdq, "md5": f.md5, "pdq_distance": d} for kind, f, d in k.variants],
        } for k in net.known],
        "media_posts": net.media_posts,
        "counts": net.counts,
    }


def write_truth(path: Path, truth: dict) -> None:
    path.write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")


def write_bank(path: Path, nets: list[Network]) -> int:
    rows = 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["signal_type", "signal", "label"])
        for net in nets:
            for k in net.known:
                w.writerow(["pdq", k.original.pdq, k.label])
                w.writerow(["md5", k.original.md5, k.label])
                rows += 2
    return rows


# Placeholder codewords planted in network captions and comments (invented; see vocab.py).
WORLD_CODEWORDS: tuple[tuple[str, str], ...] = (
    ("teal marbles", "en"), ("plinth count", "en"), ("spiral batch", "en"), ("orbit squares", "en"),
    ("crate of dots", "en"), ("الفانوس يميل", "ar"), ("عدد الأعمدة", "ar"),
    ("linterna se inclina", "es"), ("siete columnas", "es"),
)


def write_terms(path: Path, hashtags: list[str]) -> int:
    """DIR/terms.yaml: the world's placeholder signal hashtags and codewords as an operator term list
    (docs/text.md), so a demo can scan the world with `--terms DIR/terms.yaml`."""
    lines = ["# Term list for this synthetic world: INVENTED placeholders only (see docs/worlds.md).",
             "name: world-placeholders", "terms:"]
    for tag in hashtags:
        lines.append(f'  - {{term: "#{tag}", category: signal_hashtag, weight: 2.0, lang: en, mode: hashtag}}')
    for term, lang in WORLD_CODEWORDS:
        lines.append(f'  - {{term: "{term}", category: codeword, weight: 1.5, lang: {lang}}}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(hashtags) + len(WORLD_CODEWORDS)
