"""Signal kinds found on media: `media_match` (a bank entry) and `media_classifier` (the operator's classifier).

Both are recorded on the media, its post and its account (`registry.on_media`); risk and the
case reasons read the account row, the graph priors weigh each of the three rows a third.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import signal_types
from .registry import RiskInputs, SignalKind, per_media_key

MEDIA_FIRST = 60.0  # an exact match of a banked item; less the further the match is
MEDIA_EXTRA = 10.0  # each further distinct banked item
MEDIA_CAP = 80.0
CLASSIFIER_FIRST = 30.0  # times the classifier's score, for the best-scored media
CLASSIFIER_EXTRA = 5.0  # each further media the classifier flagged
CLASSIFIER_CAP = 40.0


def closeness(d: Mapping) -> float:
    """How close a match is, from 1.0 (exact) to 0.5 (at the match threshold), in its own signal type's
    measure (`MediaType.closeness`): PDQ bits of Hamming distance (threshold PDQ_THRESHOLD), vPDQ the share
    of the query's frames that matched (threshold VPDQ_MATCH_PERCENT), MD5 / SHA-256 always exact. A type
    no longer registered is read as PDQ bits, as before types had their own measure."""
    t = signal_types.get(str(d.get("signal_type")))
    return (t if t is not None and t.family == signal_types.MEDIA else signal_types.PDQ).closeness(d)


def _how_close(m: dict) -> str:
    if m["signal_type"] == "vpdq" and m.get("query_match_percent") is not None:
        return f"vpdq, {m['query_match_percent']}% of its frames"
    return f"{m['signal_type']} distance {m['distance']}"


def media_risk(inp: RiskInputs) -> list[dict]:
    media: dict[str, dict] = {}
    for s in inp.of("media_match"):
        d = s.detail
        label = str(d.get("label") or d.get("entry") or s.subject_id)
        m = {"closeness": closeness(d), "distance": int(d.get("distance") or 0), "bank": d.get("bank"),
             "media_id": d.get("media_id"), "signal_type": d.get("signal_type"),
             "query_match_percent": d.get("query_match_percent")}
        old = media.get(label)
        if old is None or (m["closeness"], -m["distance"]) > (old["closeness"], -old["distance"]):
            media[label] = m
    reasons, total = [], 0.0
    for i, (label, m) in enumerate(sorted(media.items(), key=lambda kv: (-kv[1]["closeness"], kv[1]["distance"]))):
        pts = min(MEDIA_FIRST * m["closeness"] if i == 0 else MEDIA_EXTRA, MEDIA_CAP - total)
        if pts <= 0:
            break
        total += pts
        reasons.append({"kind": "media_match", "points": round(pts, 1), "media_id": m["media_id"],
                        "text": f"media {m['media_id']} matches {label} in bank {m['bank']} ({_how_close(m)})"})
    return reasons


def classifier_risk(inp: RiskInputs) -> list[dict]:
    best: dict[str, dict] = {}  # media id -> its highest-scored classifier detail
    for s in inp.of("media_classifier"):
        mid = str(s.detail.get("media_id") or s.subject_id)
        if mid not in best or float(s.detail.get("score") or 0) > float(best[mid].get("score") or 0):
            best[mid] = dict(s.detail)
    reasons, total = [], 0.0
    for i, (mid, d) in enumerate(sorted(best.items(), key=lambda kv: (-float(kv[1].get("score") or 0), kv[0]))):
        pts = min(CLASSIFIER_FIRST * float(d.get("score") or 0) if i == 0 else CLASSIFIER_EXTRA, CLASSIFIER_CAP - total)
        if pts <= 0:
            break
        total += pts
        reasons.append({"kind": "media_classifier", "points": round(pts, 1), "media_id": mid,
                        "text": describe_classifier(d)})
    return reasons


def describe_match(d: Mapping) -> str:
    return (f"media {d.get('media_id')} matches bank {d.get('bank')} entry {d.get('entry')} "
            f"({d.get('signal_type')}, distance {d.get('distance')})")


def describe_classifier(d: Mapping) -> str:
    return (f"media {d.get('media_id')} scored {d.get('score')} by classifier {d.get('classifier')} "
            f"{d.get('version')} (threshold {d.get('threshold')}; no bank holds it)")


MEDIA_MATCH = SignalKind(
    "media_match", "media match", describe_match, media_risk, prior=1 / 3,
    key=per_media_key("media_match"), per_media=True)  # identity: (bank_id, entry_id, media_id)
MEDIA_CLASSIFIER = SignalKind(
    "media_classifier", "classifier", describe_classifier, classifier_risk, prior=1 / 3,
    key=per_media_key("media_classifier"), per_media=True)  # identity: (name, version, media_id)
