"""Survivor tracking (issue 16 item 1) on a small hard world: re-registrations that carry one or a few
of name, bio, handle family, contact, avatar, follows are found by the batch run and, as they sign
up, by the stream worker's hook; each link has its reasons and joins the suspended account's case."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select, text

from netwarden import audit, cases
from netwarden.graph import evasion
from netwarden.graph.evaluate import evaluate_evasion, prepare_world, read_truth
from netwarden.ingest.pipeline import Ingestor, load_hooks
from netwarden.scale.evasion_watch import EvasionWatch
from netwarden.store import open_store
from netwarden.store.tables_cases import case_members
from netwarden.world import generate
from netwarden.world.params import HARD


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    out = tmp_path_factory.mktemp("ev") / "w"
    generate(out, accounts=3000, seed=8, networks=3, network_size=(40, 60), camouflage=(0.7,),
             reregistered_fraction=0.35, **HARD)
    return out


def test_normalization_blocks_on_what_a_person_keeps():
    assert evasion.name_key("Ivan Santos 🎧") == evasion.name_key("ivan  SANTOS") == "ivan santos"
    assert evasion.handle_stem("quiet_fox22") == evasion.handle_stem("quietfox7") == "quietfox"
    assert evasion.edit_distance("quiet_fox22", "quiet_fox227") == 1
    assert evasion.edit_distance("quiet_fox22", "loud_owl9") > 2
    # a bio's words without its contacts, links and hashtags
    assert evasion.bio_words("Night owl from the coast | kik: zorb_lat99 #quixfen t.me/+AbC") == \
        ["night", "owl", "from", "the", "coast"]
    # a contact goes with its call to action (a short clause back to a separator), whatever the app
    line = "garden gnome curator, be kind"
    assert evasion.bio_words(line + " | add me on kik smardakqua79") == evasion.bio_words(line + " ✨ | k1k smardakqua79") \
        == evasion.bio_words(line) == ["garden", "gnome", "curator", "be", "kind"]
    assert evasion.bio_words("nurse in ohio, snap: foo_bar12") == ["nurse", "in", "ohio"]  # a separator stops it
    assert evasion.bio_words("business enquiries: foo@example.com | night owl") == ["night", "owl"]
    # a longer clause is the person's own words: only the contact goes
    assert evasion.bio_words("i paint birds and trees snap foo_bar12") == ["paint", "birds", "and", "trees"]


@pytest.mark.slow
def test_batch_evasion_finds_reregistrations_by_any_trait(hard, sqlite_url):
    store = prepare_world(hard, sqlite_url)
    truth = read_truth(hard)
    ev = evaluate_evasion(store, truth)
    by = ev["by_carried"]
    assert ev["precision"] >= 0.95
    assert by[">=2"]["recall"] >= 0.85 and by["1"]["recall"] >= 0.5
    # traits the old evasion could not see at all are found now (each one alone)
    links = {lk.new_account: lk for lk in evasion.find_evasion(store)}
    found_alone = {r["carried"][0] for r in truth["reregistrations"]
                   if len(r["carried"]) == 1 and getattr(links.get(r["new"]), "suspended_account", None) == r["old"]}
    assert {"name", "bio", "handle_family"} & found_alone
    for lk in links.values():
        assert lk.reasons() and all(isinstance(x, str) and x for x in lk.reasons())


@pytest.mark.slow
def test_stream_hook_flags_a_signup_in_its_batch_and_proposes_it_to_the_case(hard, sqlite_url):
    truth = read_truth(hard)
    lines = (hard / "events.jsonl").read_bytes().splitlines()
    news = {r["new"]: r for r in truth["reregistrations"]}
    # everything up to the first re-registration's sign-up, then the rest as a stream
    first = min(i for i, ln in enumerate(lines) if (e := orjson.loads(ln))["kind"] == "account" and e["data"]["id"] in news)
    (hard / "before.jsonl").write_bytes(b"\n".join(lines[:first]) + b"\n")
    (hard / "after.jsonl").write_bytes(b"\n".join(lines[first:]) + b"\n")
    store = open_store(sqlite_url)
    Ingestor(store, "native", 2000, load_hooks(store)).run([hard / "before.jsonl"])
    with store.engine.connect() as conn:
        suspended = {a for (a,) in conn.execute(text("SELECT id FROM accounts WHERE state = 'suspended'"))}
    olds = sorted({r["old"] for r in news.values()} & suspended)
    assert olds
    cid = cases.create_case(store, [cases.Member(a, 1.0, i + 1, False, {}, []) for i, a in enumerate(olds)],
                            "rev:a", origin="test")
    watch = EvasionWatch(store)
    Ingestor(store, "native", 500, [*load_hooks(store), watch]).run([hard / "after.jsonl"])
    assert watch.builds == 1 and watch.updates >= 1  # the stream's suspensions: one account at a time
    right = [lk for lk in watch.found if lk.new_account in news and news[lk.new_account]["old"] == lk.suspended_account]
    wrong = [lk for lk in watch.found if lk not in right]
    # a signup has no follows yet: the profile traits decide; two of them are enough
    profile = {"name", "bio", "handle_family", "avatar"}
    later = {r["new"] for r in news.values() if r["old"] in suspended and len(profile & set(r["carried"])) >= 2}
    assert later and len(later & {lk.new_account for lk in right}) >= 0.8 * len(later)
    assert len(right) >= 3 and len(wrong) <= 1
    with store.engine.connect() as conn:
        sig = {r[0]: orjson.loads(r[1]) for r in conn.execute(text(
            "SELECT account_id, detail FROM signals WHERE kind = 'ban_evasion'"))}
        for lk in right:
            assert sig[lk.new_account]["suspended_account"] == lk.suspended_account and sig[lk.new_account]["reasons"]
        in_case = {r.account_id: r for r in conn.execute(select(case_members).where(case_members.c.case_id == cid))}
        proposed = [lk for lk in right if lk.suspended_account in olds]
        assert proposed
        for lk in proposed:
            m = in_case[lk.new_account]
            assert m.state == "candidate" and orjson.loads(m.path)[0]["evasion_of"] == lk.suspended_account
        logged = audit.entries(conn, subject_type="case", subject_id=str(cid), action="case.evasion_member")
        assert {e["detail"]["account"] for e in logged} >= {lk.new_account for lk in proposed}
        assert audit.verify(conn).ok


def _inputs(**ids):
    """Two suspended accounts and one newer account, with the identifiers given per account."""
    from collections import defaultdict
    from datetime import datetime, timedelta

    t0 = datetime(2026, 1, 1)
    inp = evasion.EvasionInputs(
        susp={"old": (t0, "sleepy_river2150"), "other": (t0, "noisy_comet7")},
        newer={"new": (t0 + timedelta(days=30), "sleepy_river21509")},
        handles=defaultdict(set), handle_count=defaultdict(int), avatars={}, avatar_count=defaultdict(int),
        follows=defaultdict(set), tags=defaultdict(set))
    for name, val in ids.items():
        setattr(inp, name, val)
    return inp


def test_each_trait_is_its_own_evidence_and_rarity_weighs_it():
    from collections import defaultdict

    # the handle family alone is one identifier: a candidate, scored, below the threshold
    inp = _inputs()
    (lk,) = evasion.best_links(evasion.candidate_pairs(inp), inp)["new"]
    assert lk.suspended_account == "old" and [e["kind"] for e in lk.evidence] == ["handle_family"]
    assert lk.score < evasion.LINK_THRESHOLD
    # with the same header image (one of three accounts showing it, 0.75) it is two: reported, with reasons
    inp = _inputs(headers={"old": ("h1", None), "new": ("h1", None)}, header_count=defaultdict(int, {"h1": 3}))
    (lk,) = evasion.best_links(evasion.candidate_pairs(inp), inp)["new"]
    assert lk.score >= evasion.LINK_THRESHOLD and "same profile header image (shown by 3 accounts)" in lk.reasons()
    # a display name many newer accounts show weighs nothing; one only this account shows weighs 1
    common = _inputs(names={"old": "alex", "new": "alex"}, name_count=defaultdict(int, {"alex": 40}))
    rare = _inputs(names={"old": "alex tanaka", "new": "alex tanaka"}, name_count=defaultdict(int, {"alex tanaka": 1}))
    w = {k: sum(e["weight"] for e in evasion.score_pair("new", "old", i).evidence if e["kind"] == "name")
         for k, i in (("common", common), ("rare", rare))}
    assert w == {"common": 0, "rare": 1.0}
    # outside the window (created before the suspension, or 60+ days after): no link at all
    inp = _inputs()
    inp.newer["new"] = (inp.susp["old"][0] - __import__("datetime").timedelta(days=1), "sleepy_river21509")
    assert evasion.score_pair("new", "old", inp) is None


def test_a_shared_contact_with_a_second_trait_of_the_person_is_a_link_and_alone_is_not():
    from collections import defaultdict

    # the network's contact, shown by 12 accounts (the two suspended ones among them): 1 / 11 alone
    key = "kik:grove_chat"
    base = dict(handles=defaultdict(set, {"old": {key}, "other": {key}, "new": {key}}),
                handle_count=defaultdict(int, {key: 12}))
    newer = {"new": (_inputs().newer["new"][0], "quiet_lake88")}  # a handle of no family
    alone = _inputs(**base, newer=newer)
    links = evasion.best_links(evasion.candidate_pairs(alone), alone)["new"]
    assert all(lk.score < evasion.LINK_THRESHOLD for lk in links)
    assert [e["weight"] for e in links[0].evidence] == [round(1 / 11, 3)]
    # with a rare hashtag in common it is still only "same network": no link
    tags = defaultdict(set, {"old": {"#x1"}, "new": {"#x1"}})
    hashtag = _inputs(**base, newer=newer, tags=tags)
    assert evasion.score_pair("new", "old", hashtag).score < evasion.LINK_THRESHOLD
    # the same display name, shown by this newer account only, alone: one identifier, no link
    names = {"old": "mira solano", "new": "mira solano"}
    name_only = _inputs(newer=newer, names=names, name_count=defaultdict(int, {"mira solano": 1}))
    assert evasion.score_pair("new", "old", name_only).score < evasion.LINK_THRESHOLD
    # the contact and the name together: the link, to the account with the name, saying both
    both = _inputs(**base, newer=newer, names=names, name_count=defaultdict(int, {"mira solano": 1}))
    (lk, *_) = evasion.best_links(evasion.candidate_pairs(both), both)["new"]
    assert lk.suspended_account == "old" and lk.score >= evasion.LINK_THRESHOLD
    assert {e["kind"] for e in lk.evidence} == {"handle", "name"}
    assert any("with a second trait" in r and key in r for r in lk.reasons())
    other = evasion.score_pair("new", "other", both)
    assert other.score < evasion.LINK_THRESHOLD  # the other holder of the contact has no trait of its own


def test_a_phone_number_is_one_contact_whichever_app_the_bio_names_with_it():
    import sqlite3

    from netwarden.store import evasion_queries as q

    # "whatsapp +1 516 ..." and "msg me +1 516 ..." (read as a plain phone) are the same number: one
    # key, so the pair shares a contact; handles that are not numbers keep their platform
    rows = [("whatsapp", "+15165550110"), ("phone", "+15165550110"), ("signal", "+15165550110"),
            ("telegram", "invite:AbC"), ("kik", "grove_chat")]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE contacts (account_id TEXT, platform TEXT, handle TEXT)")
    db.executemany("INSERT INTO contacts VALUES (?, ?, ?)", [(f"a{i}", p, h) for i, (p, h) in enumerate(rows)])
    keys = dict(db.execute(q.CONTACTS_SQL).fetchall())
    assert keys == {"a0": "tel:+15165550110", "a1": "tel:+15165550110", "a2": "tel:+15165550110",
                    "a3": "telegram:invite:AbC", "a4": "kik:grove_chat"}
    # so a name and the number the network shares (shown by 26 accounts, under two apps) are a link
    from collections import defaultdict

    key = "tel:+15165550110"
    inp = _inputs(handles=defaultdict(set, {"old": {key}, "new": {key}}), handle_count=defaultdict(int, {key: 26}),
                  names={"old": "yusuf abara", "new": "yusuf abara"}, name_count=defaultdict(int, {"yusuf abara": 1}),
                  newer={"new": (_inputs().newer["new"][0], "brave_bison897")})
    lk = evasion.score_pair("new", "old", inp)
    assert lk.score >= evasion.LINK_THRESHOLD and any(e.get("backed") for e in lk.evidence)


def test_handle_family_is_weighed_by_the_newer_handles_close_to_the_old_one():
    from datetime import timedelta

    def family_weight(inp):
        lk = evasion.score_pair("new", "old", inp)
        return sum(e["weight"] for e in lk.evidence if e["kind"] == "handle_family") if lk else 0.0

    t0 = _inputs().susp["old"][0]
    # a large family ("sleepyriver" + other digits, far from the old handle) leaves a handle one digit
    # away from the suspended one at full weight
    inp = _inputs()
    others = {f"f{i}": (t0 + timedelta(days=5), f"sleepy_river{7000 + i}") for i in range(40)}
    inp.newer.update(others)
    for c, h in inp.newer.values():
        evasion.add_family(inp, h, c)
    assert len(inp.family_members["sleepyriver"]) == 41 and family_weight(inp) == 1.0
    # three newer handles as close to the old one, in the suspension's window: the family says less
    crowded = _inputs()
    crowded.newer.update({f"c{i}": (t0 + timedelta(days=3), f"sleepy_river215{i}") for i in (1, 3)})
    for c, h in crowded.newer.values():
        evasion.add_family(crowded, h, c)
    assert 0 < family_weight(crowded) < 0.7
    # the same handles created before the suspension are not candidates for it and do not count
    before = _inputs()
    before.newer.update({f"c{i}": (t0 - timedelta(days=3), f"sleepy_river215{i}") for i in (1, 3)})
    for c, h in before.newer.values():
        evasion.add_family(before, h, c)
    assert family_weight(before) == 1.0


def test_a_letter_added_to_the_old_handle_keeps_its_family_one_edit_away_and_no_further():
    def kinds(handle):
        inp = _inputs(newer={"new": (_inputs().newer["new"][0], handle)})
        evasion.add_family(inp, handle, inp.newer["new"][0])
        lk = evasion.score_pair("new", "old", inp)
        return [(e["kind"], e["weight"], e["distance"]) for e in lk.evidence if e["kind"] == "handle_family"] if lk else []

    # "x" + the old handle, a letter changed: the letters differ by one edit, the handles too: the family
    assert kinds("xsleepy_river2150") == [("handle_family", 1.0, 1)]
    assert kinds("sleepy_rivet2150") == [("handle_family", 1.0, 1)]
    # letters one edit apart but the handle two edits away (a digit changed as well), or letters two
    # edits apart: not the family
    assert kinds("xsleepy_river2151") == [] and kinds("xxsleepy_river2150") == []
    # rarity counts the newer handles as close in the candidate's own family too
    from datetime import timedelta

    inp = _inputs(newer={"new": (_inputs().newer["new"][0], "xsleepy_river2150")})
    t = inp.susp["old"][0] + timedelta(days=2)
    inp.newer.update({"c1": (t, "xsleepy_river2150x"), "c2": (t, "sleepy_river21500")})
    for c, h in inp.newer.values():
        evasion.add_family(inp, h, c)
    (e,) = [e for e in evasion.score_pair("new", "old", inp).evidence if e["kind"] == "handle_family"]
    assert e["shared_by"] == 2  # the candidate and sleepy_river21500; xsleepy_river2150x is two edits away


def test_a_bio_mostly_the_same_counts_beside_another_trait_of_the_person_and_not_alone():
    from collections import defaultdict

    line = evasion.bio_words("film photographer learning spanish downtown, always hungry")
    old = evasion.shingles(line + ["msg", "me"])  # "| msg me +1 ..." (a number not read as a contact)
    new = evasion.shingles(line)  # "| add me on kik ..." with the contact read and removed
    j = evasion._jaccard(old, new)
    assert evasion.BIO_BACKED <= j < evasion.BIO_JACCARD
    newer = {"new": (_inputs().newer["new"][0], "wild_ferret740")}  # a handle of no family
    bios = dict(bios={"old": old, "new": new}, bio_keys={"old": "o", "new": "n"})
    alone = _inputs(newer=newer, **bios)
    assert evasion.score_pair("new", "old", alone) is None  # alone: not even evidence
    # an avatar three accounts show (one of a few: 0.75; one only the pair shows is a link alone)
    avatar = dict(avatars={"old": ("a1", None), "new": ("a1", None)}, avatar_count=defaultdict(int, {"a1": 3}))
    only_avatar = evasion.score_pair("new", "old", _inputs(newer=newer, **avatar))
    both = evasion.score_pair("new", "old", _inputs(newer=newer, **avatar, **bios))
    assert only_avatar.score < evasion.LINK_THRESHOLD <= both.score
    (bio,) = [e for e in both.evidence if e["kind"] == "bio"]
    assert bio["backed"] and bio["weight"] == round(evasion.WEIGHTS["bio"] * j, 3)
    assert any(r.startswith("same bio") and "second trait" in r for r in both.reasons())
    # below the bio block's reach it does not count, backed or not
    far = dict(bios={"old": old, "new": evasion.shingles(line[:4])}, bio_keys={"old": "o", "new": "n"})
    assert evasion.score_pair("new", "old", _inputs(newer=newer, **avatar, **far)).score == only_avatar.score


def test_an_image_only_the_pair_shows_is_a_link_alone_and_one_shown_by_more_weighs_less():
    from collections import defaultdict

    newer = {"new": (_inputs().newer["new"][0], "wild_ferret740")}  # 30 days on, a handle of no family

    def score(kind, holders, old_pdq=None, new_img=("img", None), **extra):
        images = {"old": ("img", old_pdq), "new": new_img}
        counts = defaultdict(int, {"img": holders, **extra})
        ids = dict(avatars=images, avatar_count=counts) if kind == "avatar" else dict(headers=images, header_count=counts)
        return evasion.score_pair("new", "old", _inputs(newer=newer, **ids))

    for kind in ("avatar", "header"):
        # the same image file, shown by exactly the suspended account and the new one: the same person
        lk = score(kind, 2)
        (e,) = lk.evidence
        assert e["kind"] == kind and e["shared_by"] == 2 and e["weight"] == evasion.AVATAR_UNIQUE
        assert lk.score >= evasion.LINK_THRESHOLD
        assert lk.reasons()[0].endswith("image (shown by 2 accounts)")
        # shown by 3-5: one of a few, 1 / (holders - 1) like a contact, never a link alone
        assert [score(kind, n).score for n in (3, 4, 5)] == [0.75, 0.5, 0.375]
        assert score(kind, 5).score < evasion.LINK_THRESHOLD
        assert score(kind, 6) is None  # a stock image says nothing
        # a near copy (PDQ) of a file only the old account shows: at most the flat weight
        near = score(kind, 1, old_pdq="0" * 64, new_img=("img2", "0" * 63 + "f"), img2=1)
        (e,) = near.evidence
        assert e["near"] and e["shared_by"] == 2 and e["weight"] == evasion.WEIGHTS[kind] < evasion.LINK_THRESHOLD
        assert "near copy" in near.reasons()[0]


def _account(aid, created, handle, sha, name=None, bio=None):
    return {"v": 1, "id": f"acc-{aid}", "kind": "account", "time": created,
            "data": {"id": aid, "handle": handle, "display_name": name or handle, "bio": bio, "created_at": created,
                     "avatar": {"id": f"av-{aid}", "kind": "photo", "uri": f"media/{aid}.png", "sha256": sha}}}


def test_the_stream_weighs_an_avatar_by_its_holders_as_the_batch_run_does(sqlite_url, tmp_path):
    """A re-registration with only its avatar, an image file no other account shows: linked by the
    stream in its batch and by the batch run, with the same score and reasons; a stock-like image
    five accounts show links nothing, in either."""
    from sample_events import write_jsonl

    unique, shared = "a" * 64, "b" * 64
    old = [_account("old1", "2029-06-01T00:00:00Z", "quiet_heron", unique, "Quiet Heron"),
           _account("old2", "2029-06-02T00:00:00Z", "amber_kite", shared, "Amber Kite"),
           *[_account(f"s{i}", "2029-06-03T00:00:00Z", f"plain_user{i}", shared) for i in range(3)],
           *[_account(f"x{i}", "2029-06-04T00:00:00Z", f"other_user{i}", f"{i:064x}") for i in range(3)]]
    states = [{"v": 1, "id": f"st-{a}", "kind": "account_state", "time": "2030-01-01T00:00:00Z",
               "data": {"account_id": a, "state": "suspended", "reason": "test"}} for a in ("old1", "old2")]
    signups = [_account("new1", "2030-01-21T00:00:00Z", "loud_owl9", unique, "Loud Owl"),
               _account("new2", "2030-01-21T00:00:00Z", "brisk_pine4", shared, "Brisk Pine")]
    write_jsonl(tmp_path / "one.jsonl", old + states)
    write_jsonl(tmp_path / "two.jsonl", signups)
    store = open_store(sqlite_url)
    watch = EvasionWatch(store, propose=False)
    Ingestor(store, "native", 500, [watch]).run([tmp_path / "one.jsonl"])
    assert watch.builds == 1 and set(watch.inp.susp) == {"old1", "old2"}
    Ingestor(store, "native", 500, [watch]).run([tmp_path / "two.jsonl"])  # counted as they arrive
    assert watch.builds == 1
    (lk,) = watch.found
    assert (lk.new_account, lk.suspended_account) == ("new1", "old1") and lk.score >= evasion.LINK_THRESHOLD
    assert lk.reasons() == ["same avatar image (shown by 2 accounts)"]
    batch = evasion.candidate_links(store)
    assert [x.as_dict() for x in evasion.find_evasion(store)] == [lk.as_dict()]
    (stock,) = batch["new2"]
    assert stock.evidence[0]["shared_by"] == 5 and stock.score < evasion.LINK_THRESHOLD
    assert evasion.best_links([("new2", "old2")], watch.inp)["new2"][0].as_dict() == stock.as_dict()
    fresh = evasion.load_inputs(store)
    assert dict(watch.inp.avatar_count) == dict(fresh.avatar_count)


def test_ties_around_both_accounts_back_an_identifier_and_never_stand_alone():
    from collections import defaultdict

    around = {f"m{i}" for i in range(12)}
    ties = {"follows": defaultdict(set, {"old": set(around), "new": {"m0", "m1", "x1"}}),
            "followers": defaultdict(set, {"old": {"m5", "m6"}, "new": set(sorted(around)[4:12])})}
    # one identifier (the handle family, weight 1) and the accounts around the old account around
    # the new one: reported, with the ties as a reason
    inp = _inputs(**ties)
    evasion.add_family(inp, inp.newer["new"][1], inp.newer["new"][0])
    lk = evasion.score_pair("new", "old", inp)
    kinds = {e["kind"]: e for e in lk.evidence}
    assert kinds["ties"]["common"] == 10 and lk.score >= evasion.LINK_THRESHOLD
    assert any("were ties of the suspended account" in r for r in lk.reasons())
    # the same family without the ties is not reported
    bare = _inputs()
    evasion.add_family(bare, bare.newer["new"][1], bare.newer["new"][0])
    assert evasion.score_pair("new", "old", bare).score < evasion.LINK_THRESHOLD
    # ties alone (a new handle, nothing else of the old account) are no evidence at all
    alone = _inputs(**ties)
    alone.newer["new"] = (alone.newer["new"][0], "loud_owl9")
    assert evasion.score_pair("new", "old", alone) is None
    # two accounts in common are not ties
    few = _inputs(follows=defaultdict(set, {"old": set(around), "new": {"m0", "m1"}}))
    evasion.add_family(few, few.newer["new"][1], few.newer["new"][0])
    assert "ties" not in {e["kind"] for e in evasion.score_pair("new", "old", few).evidence}


def _scores(inp, blocks) -> dict:
    cands = {n: sorted(s for s in blocks.candidates(n) if evasion.in_window(inp.newer[n][0], inp.susp[s][0]))
             for n in inp.newer}
    best = evasion.best_links([(n, s) for n, ss in cands.items() for s in ss], inp, 3)
    return {"candidates": {n: c for n, c in cands.items() if c},
            "links": {n: [lk.as_dict() for lk in links] for n, links in best.items()}}


@pytest.mark.slow
def test_the_watch_updates_one_account_at_a_time_and_equals_a_full_read(hard, sqlite_url):
    store = prepare_world(hard, sqlite_url)
    truth = read_truth(hard)
    watch = EvasionWatch(store)
    with store.engine.connect() as conn:
        watch._refresh(conn)
    assert watch.builds == 1 and watch.inp is not None
    susp = sorted(watch.inp.susp, key=lambda a: (watch.inp.susp[a][0], a))
    first = watch.inp.susp[susp[0]][0]
    newer = sorted(watch.inp.newer)
    with store.engine.connect() as conn:
        older = [a for (a,) in conn.execute(text(
            "SELECT id FROM accounts WHERE state = 'active' AND created_at < :t ORDER BY id LIMIT 3"),
            {"t": first.strftime("%Y-%m-%dT%H:%M:%SZ")})]
    rereg = [r["new"] for r in truth["reregistrations"] if r["new"] in watch.inp.newer]
    named = [a for a in newer if a in watch.inp.names and a in watch.inp.bio_keys and a not in rereg]
    assert len(older) == 3 and rereg and len(named) >= 2
    # a re-registration reinstated has scores; suspending it must take its name, bio and family out of
    # the newer accounts' counts, and a suspended account created before the first suspension is forgotten
    late = "2099-01-01T00:00:00Z"
    steps = [
        [("suspended", rereg[0]), ("suspended", named[0])],           # newer accounts become suspended
        [("suspended", older[0]), ("suspended", older[1])],          # accounts outside the watch so far
        [("active", susp[-1]), ("active", older[1])],                # reinstated: newer again / forgotten
        [("suspended", named[1]), ("active", susp[-2])],             # one in, one out: the same COUNT
        [("suspended", susp[-1]), ("active", rereg[0])],
        [("suspended", older[2]), ("active", older[0])],
    ]
    for step in steps:
        with store.engine.begin() as conn:
            for state, a in step:
                conn.execute(text("UPDATE accounts SET state = :s, state_time = :t WHERE id = :a"),
                             {"s": state, "t": late, "a": a})
            watch._refresh(conn, states=True)
            fresh = evasion.load_inputs(store, conn)
        fresh_blocks = evasion.Blocks(fresh, fresh.susp)
        assert {a for _, a in step if _ == "suspended"} <= set(watch.inp.susp)
        assert not {a for s, a in step if s == "active"} & set(watch.inp.susp)
        assert evasion.watch_state(watch.inp, watch.blocks) == evasion.watch_state(fresh, fresh_blocks)
        assert _scores(watch.inp, watch.blocks) == _scores(fresh, fresh_blocks)
    assert watch.builds == 1 and watch.updates == len(steps)  # no full read in the steady state
    # the earliest suspension lifted: which accounts are newer changes, so the list is read whole
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET state = 'active' WHERE id = :a"), {"a": susp[0]})
        watch._refresh(conn, states=True)
        fresh = evasion.load_inputs(store, conn)
    assert watch.builds == 2
    assert evasion.watch_state(watch.inp, watch.blocks) == evasion.watch_state(fresh, evasion.Blocks(fresh, fresh.susp))


def test_a_batch_of_state_events_alone_updates_the_watch_even_when_count_and_latest_time_stay(sqlite_url, tmp_path):
    from sample_events import make_events, write_jsonl

    store = open_store(sqlite_url)
    events = make_events(accounts=30, posts=40, seed=3)
    already = {e["data"]["account_id"] for e in events if e["kind"] == "account_state"}
    ids = sorted({e["data"]["id"] for e in events if e["kind"] == "account"} - already)
    a, b, c, d = ids[:4]

    def state(acc, st, time):
        return {"v": 1, "id": f"st-{acc}-{time}", "kind": "account_state", "time": time,
                "data": {"account_id": acc, "state": st, "reason": "test"}}

    write_jsonl(tmp_path / "one.jsonl", [*events, state(a, "suspended", "2030-01-01T00:00:00Z"),
                                         state(b, "suspended", "2030-01-02T00:00:00Z"),
                                         state(d, "suspended", "2030-01-03T00:00:00Z")])
    # one out, one in: the suspended COUNT and the latest state_time do not move
    write_jsonl(tmp_path / "two.jsonl", [state(b, "active", "2030-01-04T00:00:00Z"),
                                         state(c, "suspended", "2030-01-02T12:00:00Z")])
    watch = EvasionWatch(store)
    Ingestor(store, "native", 5000, [watch]).run([tmp_path / "one.jsonl"])
    assert watch.inp is not None and {a, b, d} <= set(watch.inp.susp)
    before = set(watch.inp.susp)
    Ingestor(store, "native", 5000, [watch]).run([tmp_path / "two.jsonl"])
    assert set(watch.inp.susp) == before - {b} | {c} and b not in watch.blocks._keys and c in watch.blocks._keys
    assert (watch.builds, watch.updates) == (1, 1)
