"""Retro-matching on Spark: when a bank gains hashes, match them against every stored media hash.

Gives the same matches as `netwarden.media.matcher.Matcher` (the ingest hook's matcher) for
photos: MD5 / SHA-256 equality, PDQ within each bank's threshold over all eight dihedral variants
of the stored media, the smallest distance per (media, entry) with ties going to the original
orientation, and negative banks suppressing every positive match of a media; and videos (vPDQ):
a video matches a bank video when at least VPDQ_MATCH_PERCENT of its unique usable frame hashes
(quality >= MIN_QUALITY) are within the bank's threshold of some usable frame of the bank video,
with the same percentages, distance and detail as `media.video.match_videos` / `Matcher`.

PDQ candidates come from an equi-join, with no pairwise comparison: every 256-bit hash is cut into
16 chunks of 16 bits; a bank hash is expanded into each chunk's key and every key within r =
threshold // 16 bit flips of it (17 keys per chunk for the default threshold 31). By the
pigeonhole principle a media hash within the threshold differs from the bank hash in at most r
bits in some chunk, so the join on (chunk, key) finds every true match (recall 1.0). Candidates
are then verified exactly: Hamming distance = sum of bit_count(a xor b) over eight 32-bit words.
The bank side is the expanded one because it is the small side (the new entries); the media side
contributes 16 rows per variant. vPDQ uses the same join frame by frame: a stored video's unique
usable frame hashes against the bank videos' frame hashes (expanded); the matched frames are then
counted per (video, bank entry) on each side.

Signals are written with the ingest hook's idempotency keys (`media_match:<bank>:<entry>:...`),
so re-running, or an ingest that already found the match, stores nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations

from sqlalchemy import or_, select

from .. import signal_types
from ..media.hashing import MIN_QUALITY
from ..signal_types import VPDQ_MATCH_PERCENT
from ..store import schema as t
from ..store.tables_media import bank_entries, banks, media_hashes
from ..store.upsert import insert_ignore
from .spark_common import spark_session, table_df

CHUNKS = 16
CHUNK_BITS = 16
WORDS = 8  # 32-bit words for the exact distance


def flip_masks(r: int) -> list[int]:
    """All 16-bit masks with at most r bits set (0 first)."""
    out = [0]
    for k in range(1, r + 1):
        for bits in combinations(range(CHUNK_BITS), k):
            out.append(sum(1 << b for b in bits))
    return out


def _words(F, col):
    return [F.conv(F.substring(col, 1 + 8 * i, 8), 16, 10).cast("long") for i in range(WORDS)]


def _chunks(F, col):
    return F.array(*[F.conv(F.substring(col, 1 + 4 * i, 4), 16, 10).cast("int") for i in range(CHUNKS)])


def _NO_PERCENT(F):
    return [F.lit(None).cast("double").alias("query_percent"), F.lit(None).cast("double").alias("bank_percent")]


def _frames(F, col):
    """A vPDQ signal as array<struct<quality, pdq>>: a JSON frame list, or `frame,quality,pdq[,ts]` lines
    separated by newlines or `;` (the two forms `Matcher.add_entries` reads)."""
    js = F.from_json(col, "array<struct<frame:long,quality:int,pdq:string>>")
    parts = F.filter(F.transform(F.split(col, "[;\r\n]"), lambda line: F.split(F.trim(line), ",")),
                     lambda p: F.size(p) >= 3)
    lines = F.transform(parts, lambda p: F.struct(F.trim(p[1]).cast("int").alias("quality"), p[2].alias("pdq")))
    return F.when(col.startswith("["), F.transform(js, lambda f: F.struct(f["quality"].alias("quality"),
                                                                          f["pdq"].alias("pdq")))).otherwise(lines)


def _expanded_keys(F, df, id_col: str, hex_col: str, r: int):
    """(id, hex, c, key) for every chunk key within r bit flips of each hash's 16 chunks."""
    masks = F.array(*[F.lit(m) for m in flip_masks(r)])
    return (df.select(id_col, hex_col, F.posexplode(_chunks(F, F.col(hex_col))).alias("c", "k0"))
            .select(id_col, hex_col, "c", F.explode(masks).alias("mask"), "k0")
            .select(id_col, hex_col, "c", F.col("k0").bitwiseXOR(F.col("mask")).alias("key")))


def _vpdq_matches(F, media_df, ent):
    """Video-to-video matches: the share of each video's unique usable frames near a bank video's frames."""
    v_e = (ent.where(F.col("signal_type") == "vpdq")
           .select("entry_id", "bank_id", "label", "threshold", "negative", _frames(F, F.col("signal")).alias("fr")))
    meta = v_e.select("entry_id", "bank_id", "label", "threshold", "negative", F.size("fr").alias("n_frames"))
    t_fr = (v_e.select("entry_id", F.explode("fr").alias("f")).where(F.col("f.quality") >= MIN_QUALITY)
            .select("entry_id", F.col("f.pdq").alias("thex")).distinct())
    q_fr = (media_df.where(F.col("vpdq").isNotNull())
            .select("media_id", F.explode(_frames(F, F.col("vpdq"))).alias("f")).where(F.col("f.quality") >= MIN_QUALITY)
            .select("media_id", F.col("f.pdq").alias("qhex")).distinct())
    t_tot = t_fr.groupBy("entry_id").agg(F.count("*").alias("t_total"))
    q_tot = q_fr.groupBy("media_id").agg(F.count("*").alias("q_total"))
    max_t = meta.agg(F.max("threshold")).first()[0]
    if max_t is None:
        return None  # no vPDQ entry in the banks matched: no video plan at all
    r = int(max_t) // CHUNK_BITS
    qc = q_fr.select("media_id", "qhex", F.posexplode(_chunks(F, F.col("qhex"))).alias("c", "key"))
    cand = (qc.join(_expanded_keys(F, t_fr, "entry_id", "thex", r), ["c", "key"])
            .select("media_id", "qhex", "entry_id", "thex").dropDuplicates())
    qa, ta = _words(F, F.col("qhex")), _words(F, F.col("thex"))
    dist = sum((F.bit_count(a.bitwiseXOR(b)) for a, b in zip(qa, ta, strict=True)), F.lit(0))
    close = (cand.join(meta.select("entry_id", "threshold"), "entry_id")
             .where(dist <= F.col("threshold")))
    counted = (close.groupBy("media_id", "entry_id")
               .agg(F.countDistinct("qhex").alias("q_hit"), F.countDistinct("thex").alias("t_hit"))
               .join(q_tot, "media_id").join(t_tot, "entry_id")
               .select("media_id", "entry_id", (F.lit(100.0) * (F.col("q_hit") / F.col("q_total"))).alias("query_percent"),
                       (F.lit(100.0) * (F.col("t_hit") / F.col("t_total"))).alias("bank_percent"))
               .where(F.col("query_percent") >= F.lit(VPDQ_MATCH_PERCENT)))
    return (counted.join(meta, "entry_id")
            .select("media_id", "bank_id", "entry_id", F.lit("vpdq").alias("signal_type"),
                    F.concat(F.col("n_frames").cast("string"), F.lit(" frames")).alias("signal"), "label",
                    F.lit(None).cast("int").alias("distance"), F.lit("frames").alias("variant"), "negative",
                    "query_percent", "bank_percent"))


def match_df(media_df, entries_df, banks_df, after_entry: int = 0):
    """Matches as a DataFrame (media_id, bank_id, entry_id, signal_type, signal, label, distance, variant,
    query_percent, bank_percent); `to_match` turns a row into the single-machine `Match`.

    media_df: media_id, md5, sha256, pdq, quality, variants (JSON {variant: hex}), optionally vpdq (JSON
    frame list); vPDQ rows carry the match percentages and no distance (`to_match` rounds them);
    entries_df: id, bank_id, signal_type, signal, label; banks_df: id, name, threshold, enabled, negative.
    Positive matches come only from entries with id > after_entry; negative banks always count.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    bk = banks_df.where(F.col("enabled")).select(F.col("id").alias("bank_id"), "threshold", "negative")
    ent = (entries_df.join(bk, "bank_id")
           .where(F.col("negative") | (F.col("id") > F.lit(after_entry)))
           .select(F.col("id").alias("entry_id"), "bank_id", "signal_type", F.lower("signal").alias("signal"),
                   "label", "threshold", "negative"))

    # exact byte hashes
    exact = []
    for typ in signal_types.exact_media_types():
        e = ent.where(F.col("signal_type") == typ.name)
        m = media_df.where(F.col(typ.column).isNotNull()).select("media_id", F.lower(typ.column).alias("signal"))
        exact.append(m.join(e, "signal").select("media_id", "bank_id", "entry_id", "signal_type", "signal", "label",
                                                F.lit(0).alias("distance"), F.lit("bytes").alias("variant"),
                                                "negative", *_NO_PERCENT(F)))

    # PDQ: variants of usable media, 16 chunk keys each
    pdq_e = ent.where(F.col("signal_type") == "pdq")
    max_t = pdq_e.agg(F.max("threshold")).first()[0]
    parts = exact
    if max_t is not None:
        r = int(max_t) // CHUNK_BITS
        vmap = F.from_json("variants", "map<string,string>")
        q = (media_df.where(F.col("pdq").isNotNull() & (F.col("quality") >= MIN_QUALITY))
             .select("media_id", F.when(F.col("variants").isNotNull() & (F.col("variants") != "{}"), vmap)
                     .otherwise(F.create_map(F.lit("orig"), F.col("pdq"))).alias("vm"))
             .select("media_id", F.posexplode("vm").alias("vpos", "variant", "qhex"))
             .select("media_id", "vpos", "variant", F.lower("qhex").alias("qhex")))
        qc = q.select("media_id", "vpos", "variant", "qhex", F.posexplode(_chunks(F, F.col("qhex"))).alias("c", "key"))
        bc = _expanded_keys(F, pdq_e, "entry_id", "signal", r).drop("signal")
        cand = qc.join(bc, ["c", "key"]).select("media_id", "vpos", "variant", "qhex", "entry_id").dropDuplicates(
            ["media_id", "vpos", "entry_id"])
        cand = cand.join(pdq_e, "entry_id")
        qa, ea = _words(F, F.col("qhex")), _words(F, F.col("signal"))
        dist = sum((F.bit_count(a.bitwiseXOR(b)) for a, b in zip(qa, ea, strict=True)), F.lit(0))
        verified = cand.withColumn("distance", dist.cast("int")).where(F.col("distance") <= F.col("threshold"))
        w = Window.partitionBy("media_id", "entry_id").orderBy(
            "distance", F.when(F.col("variant") == "orig", 0).otherwise(1), "vpos")
        best = (verified.withColumn("rk", F.row_number().over(w)).where(F.col("rk") == 1)
                .select("media_id", "bank_id", "entry_id", "signal_type", "signal", "label", "distance", "variant",
                        "negative", *_NO_PERCENT(F)))
        parts = [*exact, best]
    videos = _vpdq_matches(F, media_df, ent) if "vpdq" in media_df.columns else None
    if videos is not None:
        parts.append(videos)
    allm = parts[0]
    for p in parts[1:]:
        allm = allm.unionByName(p)
    neg_media = allm.where(F.col("negative")).select("media_id").distinct()
    return (allm.where(~F.col("negative")).join(neg_media, "media_id", "left_anti")
            .where(F.col("entry_id") > F.lit(after_entry)).drop("negative"))


def load_inputs(spark, store, banks_filter: list[str] | None = None):
    exact = [typ.column for typ in signal_types.exact_media_types()]  # md5, sha256
    mh = table_df(spark, store, select(media_hashes.c.media_id, *[media_hashes.c[c] for c in exact],
                                       media_hashes.c.pdq, media_hashes.c.quality, media_hashes.c.variants,
                                       media_hashes.c.vpdq),
                  "media_id string, " + "".join(f"{c} string, " for c in exact)
                  + "pdq string, quality int, variants string, vpdq string")
    # media never hashed here (the stream's lookup mode keeps no row for MD5/SHA-256-only media): the byte
    # hashes the platform sent with the event, from the media table
    from pyspark.sql import functions as F

    ev = table_df(spark, store, select(t.media.c.id, *[t.media.c[c] for c in exact]).where(
        or_(*[t.media.c[c].is_not(None) for c in exact])), "media_id string, " + ", ".join(f"{c} string" for c in exact))
    ev = (ev.join(mh.select("media_id"), "media_id", "left_anti")
          .select("media_id", *exact,  # match_df lower-cases them
                  *[F.lit(None).cast(c).alias(n) for n, c in (("pdq", "string"), ("quality", "int"),
                                                             ("variants", "string"), ("vpdq", "string"))]))
    mh = mh.unionByName(ev)
    bq = select(banks.c.id, banks.c.name, banks.c.threshold, banks.c.enabled, banks.c.negative)
    if banks_filter:
        bq = bq.where(banks.c.name.in_(banks_filter) | banks.c.negative)
    bk = table_df(spark, store, bq, "id int, name string, threshold int, enabled boolean, negative boolean")
    en = table_df(spark, store, select(bank_entries.c.id, bank_entries.c.bank_id, bank_entries.c.signal_type,
                                       bank_entries.c.signal, bank_entries.c.label)
                  .where(bank_entries.c.signal_type.in_(signal_types.names(signal_types.MEDIA))),
                  "id int, bank_id int, signal_type string, signal string, label string")
    return mh, en, bk


def media_refs(conn, media_ids: list[str]) -> dict[str, list[dict]]:
    """Where each media appears: (role, post_id, account_id), as the ingest hook saw it."""
    refs: dict[str, list[dict]] = {m: [] for m in media_ids}
    for i in range(0, len(media_ids), 500):
        chunk = media_ids[i: i + 500]
        q = (select(t.post_media.c.media_id, t.post_media.c.post_id, t.posts.c.author_id)
             .select_from(t.post_media.join(t.posts, t.posts.c.id == t.post_media.c.post_id))
             .where(t.post_media.c.media_id.in_(chunk)))
        for mid, pid, aid in conn.execute(q):
            refs[mid].append({"role": "post", "post_id": pid, "account_id": aid or None})
        for role, col in (("avatar", t.accounts.c.avatar_media_id), ("header", t.accounts.c.header_media_id)):
            for aid, mid in conn.execute(select(t.accounts.c.id, col).where(col.in_(chunk))):
                refs[mid].append({"role": role, "post_id": None, "account_id": aid})
    return refs


def to_match(m: dict, bank_names: dict[int, str]):
    """A `match_df` row as the single-machine `Match` (vPDQ: distance and detail from the percentages)."""
    from ..media.matcher import BankInfo, Match, video_match

    name, label = bank_names[m["bank_id"]], m["label"] or ""
    if m["signal_type"] == "vpdq":
        return video_match(BankInfo(m["bank_id"], name), m["entry_id"], label, int(m["signal"].split()[0]),
                           m["query_percent"], m["bank_percent"])
    return Match(name, m["bank_id"], m["entry_id"], m["signal_type"], m["signal"], label, int(m["distance"]),
                 m["variant"])


def signal_rows(matches: list[dict], bank_names: dict[int, str], refs: dict[str, list[dict]]) -> list[dict]:
    from ..ingest.media_signals import match_rows
    from ..media.matcher import MatchResult

    now = datetime.now(UTC).isoformat(timespec="seconds")
    media, results = [], []
    for m in matches:
        match = to_match(m, bank_names)
        for ref in refs.get(m["media_id"]) or [{"role": "post", "post_id": None, "account_id": None}]:
            media.append({"id": m["media_id"], **ref})
            results.append(MatchResult(matches=[match], suppressed=[], negatives=[]))
    return match_rows(media, results, now)


def run_retro_match(store, master: str = "local[*]", spark=None, banks: list[str] | None = None,
                    after_entry: int = 0, write: bool = True) -> dict:
    """Match bank entries (id > after_entry) against every stored media hash; write the signals."""
    spark = spark or spark_session(master, "netwarden-retro-match")
    mh, en, bk = load_inputs(spark, store, banks)
    found = [r.asDict() for r in match_df(mh, en, bk, after_entry).collect()]
    names = {r["id"]: r["name"] for r in bk.collect()}
    for m in found:
        m["distance"] = to_match(m, names).distance
    written = 0
    with store.engine.begin() as conn:
        refs = media_refs(conn, sorted({m["media_id"] for m in found}))
        rows = signal_rows(found, names, refs)
        if write and rows:
            before = _count(conn)
            insert_ignore(conn, t.signals, rows, ["key"])
            written = _count(conn) - before
    return {"entries": en.count(), "media": mh.count(), "matches": len(found),
            "matched_media": len({m["media_id"] for m in found}), "signals_written": written,
            "matches_detail": [{k: m[k] for k in ("media_id", "entry_id", "signal_type", "distance", "variant")}
                               for m in sorted(found, key=lambda m: (m["media_id"], m["entry_id"]))][:1000]}


def _count(conn) -> int:
    from sqlalchemy import func

    return int(conn.execute(select(func.count()).select_from(t.signals)
                            .where(t.signals.c.kind == "media_match")).scalar())
