"""Mastodon `GET /api/v1/admin/reports` (Admin::Report entities) -> native `report` and
`report_resolution` events (docs/formats.md, docs/reports.md).

An Admin::Report carries the reporter (`account`) and the reported account (`target_account`), both
Admin::Accounts, the attached `statuses` and the cited `rules`; each is mapped as well, so a report
arriving before the accounts and posts it names still brings them. Report ids become
`mastodon:<id>`. Mastodon's categories map as `spam` -> spam, `violation` -> violation, `legal` ->
illegal, `other` -> other; a `violation` citing one of the rules in `child_safety_rules` (the
face's `mastodon_child_safety_rules` setting, passed down by mastodon.to_events) becomes
child_sexual_exploitation.
Status changes: `action_taken` true is a resolution at `action_taken_at` (outcome `actioned` when the
target account is suspended, silenced, disabled or sensitized, else `resolved`); `action_taken`
false on a report updated since it was filed is `reopened` at `updated_at` (the reopen endpoint's
answer), so fetching the list again carries every status change over.
"""

from __future__ import annotations

from netwarden.ingest._foreign import compact, dicts, event, opt_bool, opt_dict, opt_str, opt_time, req_id
from netwarden.ingest.events import BadRecord

CATEGORIES = {"spam": "spam", "violation": "violation", "legal": "illegal", "other": "other"}


def is_report(e: dict) -> bool:
    return "target_account" in e and "action_taken" in e


def report(e: dict, w: str, t: str, child_safety_rules: frozenset[str] = frozenset()) -> list[dict]:
    from netwarden.ingest.mastodon import _admin, _status

    rid = req_id(e, "id", w)
    created = opt_time(e, "created_at", w)
    updated = opt_time(e, "updated_at", w) or created or t
    target = opt_dict(e, "target_account", w)
    if not target:
        raise BadRecord(f"missing field {w}.target_account")
    reporter = opt_dict(e, "account", w)
    out = _admin(target, f"{w}.target_account", updated)
    target_id = req_id(target, "id", f"{w}.target_account")
    if reporter:
        out += _admin(reporter, f"{w}.account", updated)
    posts, media = [], []
    for sw, s in dicts(e, "statuses", w):
        evs = _status(s, sw, updated)
        out += evs
        posts.append(req_id(s, "id", sw))
        media += [m["id"] for ev in evs if ev["kind"] == "post" and ev["data"]["id"] == s["id"]
                  for m in ev["data"].get("media", [])]
    rules, rule_ids = [], set()
    for rw, r in dicts(e, "rules", w):
        rule_id = req_id(r, "id", rw)
        rule_ids.add(rule_id)
        rules.append(f"{rule_id}: {opt_str(r, 'text', rw) or ''}".strip())
    raw = opt_str(e, "category", w) or "other"
    if raw not in CATEGORIES:
        raise BadRecord(f"field {w}.category is {raw!r}; expected one of {', '.join(CATEGORIES)}")
    category = CATEGORIES[raw]
    if category == "violation" and rule_ids & child_safety_rules:
        category = "child_sexual_exploitation"
    data = compact({
        "id": f"mastodon:{rid}", "account_id": target_id, "category": category,
        "reporter_kind": "account" if reporter else "anonymous",
        "reporter_id": req_id(reporter, "id", f"{w}.account") if reporter else None,
        "posts": posts, "media": list(dict.fromkeys(media)), "rules": rules,
        "comment": opt_str(e, "comment", w), "created_at": created,
        "source": "mastodon-forwarded" if opt_bool(e, "forwarded", w) else "mastodon",
    })
    out.append(event(f"md:report:{rid}:{updated}", "report", updated, data))
    if opt_bool(e, "action_taken", w):
        when = opt_time(e, "action_taken_at", w) or updated
        by = opt_dict(e, "action_taken_by_account", w)
        acted = any(opt_bool(target, k, f"{w}.target_account") for k in ("suspended", "silenced", "disabled",
                                                                          "sensitized"))
        res = compact({"report_id": data["id"], "outcome": "actioned" if acted else "resolved",
                       "by": f"mastodon:{by.get('username') or by.get('id')}" if by else None})
        out.append(event(f"md:report_resolution:{rid}:{when}", "report_resolution", when, res))
    elif created and updated > created:
        res = {"report_id": data["id"], "outcome": "reopened", "by": "mastodon"}
        out.append(event(f"md:report_resolution:{rid}:{updated}", "report_resolution", updated, res))
    return out
