"""User reports in a generated world (`world generate --reports`), with their truth.

- **true** reports: ordinary accounts report a few members of each network (child sexual
  exploitation), sometimes naming one of the member's media posts;
- **trusted** reports: a few trusted flaggers (organisations) report members too, and their earlier
  reports were upheld;
- **false** reports: ordinary accounts report ordinary accounts by mistake, in every category;
- **malicious** reports: a few reporters file child-safety reports against ordinary accounts again
  and again, and their earlier reports were cleared (`report_resolution` no_violation).

Earlier reports (`history`) are resolved before the window's last month, so a reporter's record is
there when the new reports arrive. Only the truth file says which report is which.
"""

from __future__ import annotations

import numpy as np

from .ids import account_id
from .population import DAY

TRUE_PER_NETWORK = 3
TRUSTED_FLAGGERS = ("tf-hotline-1", "tf-hotline-2")
MALICIOUS_REPORTERS = 3
MALICIOUS_EACH = 4
HISTORY_EACH = 5
FALSE_CATEGORIES = ("child_sexual_exploitation", "spam", "harassment", "hate", "impersonation")


def emit_reports(sink, rng: np.random.Generator, pop, nets, accounts: int, start: int, end: int) -> list[dict]:
    truth: list[dict] = []
    n = [0]
    recent = max(start, end - 30 * DAY)

    def report(account: str, t: int, kind: str, reporter_kind: str, reporter: str | None, category: str,
               network: str | None, posts: list[str] | None = None, resolved: str | None = None) -> None:
        n[0] += 1
        rid = f"ur{n[0]:06d}"
        data = {"id": rid, "account_id": account, "category": category, "reporter_kind": reporter_kind,
                "source": "world"}
        if reporter:
            data["reporter_id"] = reporter
        if posts:
            data["posts"] = posts
        sink.emit("report", t, data)
        if resolved:
            sink.emit("report_resolution", t + DAY, {"report_id": rid, "outcome": resolved, "by": "world-moderator"})
        truth.append({"id": rid, "account": account, "kind": kind, "reporter_kind": reporter_kind,
                      "reporter": reporter, "category": category, "network": network, "true": network is not None,
                      "resolved": resolved})

    def t_recent() -> int:
        return int(recent + (end - DAY - recent) * rng.random())

    def t_history() -> int:
        return int(start + (recent - 2 * DAY - start) * rng.random())

    def ordinary(k: int) -> list[str]:
        return [account_id(int(i)) for i in pop.background(rng, k).tolist()]

    posts_of: dict[str, list[str]] = {}
    for net in nets:
        for mp in net.media_posts:
            posts_of.setdefault(mp["author"], []).append(mp["post_id"])
    for net in nets:
        live = [m for m in net.members if m.suspended_at is None]
        if not live:
            continue
        picks = rng.choice(len(live), size=min(TRUE_PER_NETWORK, len(live)), replace=False)
        for j in picks.tolist():
            who = account_id(live[j].idx)
            posts = posts_of.get(who, [])
            named = [posts[int(rng.integers(len(posts)))]] if posts and rng.random() < 0.5 else None
            report(who, t_recent(), "true", "account", ordinary(1)[0], "child_sexual_exploitation", net.id, named)
        for flagger in TRUSTED_FLAGGERS:
            m = live[int(rng.integers(len(live)))]
            report(account_id(m.idx), t_recent(), "trusted", "trusted_flagger", flagger, "child_sexual_exploitation",
                   net.id)
    members = {account_id(m.idx) for net in nets for m in net.members}
    for flagger in TRUSTED_FLAGGERS:  # their record: earlier reports upheld
        for _ in range(HISTORY_EACH):
            net = nets[int(rng.integers(len(nets)))] if nets else None
            target = account_id(net.members[int(rng.integers(len(net.members)))].idx) if net else ordinary(1)[0]
            report(target, t_history(), "history", "trusted_flagger", flagger, "child_sexual_exploitation",
                   net.id if net else None, resolved="actioned")

    def benign(k: int) -> list[str]:
        return [a for a in ordinary(k * 2) if a not in members][:k]

    for i in range(max(5, accounts // 2000)):
        cat = FALSE_CATEGORIES[i % len(FALSE_CATEGORIES)]
        report(benign(1)[0], t_recent(), "false", "account", ordinary(1)[0], cat, None)
    for _ in range(MALICIOUS_REPORTERS):
        reporter = ordinary(1)[0]
        for target in benign(HISTORY_EACH):
            report(target, t_history(), "history", "account", reporter, "child_sexual_exploitation", None,
                   resolved="no_violation")
        for target in benign(MALICIOUS_EACH):
            report(target, t_recent(), "malicious", "account", reporter, "child_sexual_exploitation", None)
    return truth
