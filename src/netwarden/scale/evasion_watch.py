"""Ban evasion as signups arrive: the stream worker's hook that scores every new account against the
watch list of suspended accounts (netwarden.graph.evasion's blocks and rules).

The watch list (every suspended account's identifiers, with the counts that weigh them) is read
from the store on the first batch; after that a suspension adds the account's entry and a
reinstatement removes it (`graph.evasion.update_suspended`: the same candidates and scores as a
full read, without re-reading every contact, follow and profile of the platform). One COUNT / MAX
query per batch, and the batch's account state events, tell when the suspended set changed. Each batch's new accounts created after a suspension are read
on the batch's own transaction, after the other hooks wrote their contacts, and scored against the
suspended accounts they share a block with: a profile-only match (name, bio, handle family,
contacts, avatar, device; a signup has no follows yet). An avatar or header weighs by how many accounts show
the image (`graph.evasion.image_weight`): the counts are the full read's, and each signup's image is
counted as the signup arrives (before any of the batch is scored), so a signup scores what a fresh
read of the store would give it; an image an existing account takes on later (a profile edit) is
counted at the next full read. A best link at or over the threshold is
written in the same transaction as a `ban_evasion` signal with its reasons, and the new account
joins every open case holding the suspended account as a candidate member (audited), so the match
is there when the batch commits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from .. import findings
from ..graph import evasion as ev


class EvasionWatch:
    def __init__(self, store, threshold: float = ev.LINK_THRESHOLD, actor: str = "system:stream",
                 propose: bool = True):
        self.store = store
        self.threshold = threshold
        self.actor = actor
        self.propose = propose
        self._stamp = None
        self.inp: ev.EvasionInputs | None = None
        self.blocks: ev.Blocks | None = None
        self.found: list[ev.EvasionLink] = []  # links found so far (for the worker's stats and tests)
        self.builds = 0  # full reads of the watch list (the first batch; after that only when needed)
        self.updates = 0  # changes of the suspended set applied one account at a time

    def _refresh(self, conn, states: bool = False) -> None:
        """Keep the watch list true to the suspended accounts: read it whole on the first batch (or
        when the earliest suspension moves, or the last suspended account goes), otherwise add the
        newly suspended accounts' entries and remove the reinstated ones' (`ev.update_suspended`).
        The suspended set is read when its COUNT / MAX(state_time) moved or the batch carried
        account state events (a suspension and a reinstatement in one batch can leave both alone)."""
        stamp = tuple(conn.execute(text("SELECT COUNT(*), MAX(state_time) FROM accounts WHERE state = 'suspended'")).one())
        if stamp == self._stamp and not states:
            return
        self._stamp = stamp
        if self.inp is not None and self.blocks is not None:
            current = ev.read_suspended(conn)
            if current.keys() == self.inp.susp.keys() and all(current[a] == self.inp.susp[a] for a in current):
                return
            if ev.update_suspended(conn, self.inp, self.blocks, current):
                self.updates += 1
                return
        self.builds += 1
        self.inp = ev.load_inputs(self.store, conn)
        self.blocks = ev.Blocks(self.inp, self.inp.susp) if self.inp is not None else None

    def on_batch(self, conn, batch) -> None:
        ids = [a["id"] for a in batch.accounts if a.get("id")]
        states = bool(batch.account_states)
        if not ids and not states:
            return
        self._refresh(conn, states)
        if not ids:
            return
        if self.inp is None or self.blocks is None:
            return
        ev.add_newcomers(conn, self.inp, ids)
        # the batch's accounts are in the store already: a watch list just (re)read holds them as newer
        new = [a for a in dict.fromkeys(ids) if a in self.inp.newer]
        links = []
        for n in new:
            created = self.inp.newer[n][0]
            pairs = [(n, s) for s in self.blocks.candidates(n) if ev.in_window(created, self.inp.susp[s][0])]
            best = ev.best_links(pairs, self.inp, 1).get(n)
            if best and best[0].score >= self.threshold:
                links.append(best[0])
        if links:
            record_links(conn, links, self.actor, self.propose)
            self.found.extend(links)


def record_links(conn, links: list[ev.EvasionLink], actor: str, propose: bool = True) -> list[dict]:
    """Write each link as a `ban_evasion` signal on the new account and (propose) add the new account
    to the open cases holding the suspended one; returns the case additions."""
    from .. import cases, risk
    from ..store import schema as t
    from ..store.upsert import insert_ignore

    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = [findings.Signal("ban_evasion", "account", lk.new_account, lk.new_account, round(lk.score, 4),
                            {"suspended_account": lk.suspended_account, "score": round(lk.score, 3),
                             "reasons": lk.reasons(), "evidence": lk.evidence}, (lk.suspended_account,)).row(now)
            for lk in links]
    insert_ignore(conn, t.signals, rows)
    added = [a for lk in links for a in (cases.add_survivor(conn, lk, actor) if propose else [])]
    risk.recompute(conn, [lk.new_account for lk in links])
    return added
