"""The ingest hook writes term hits and contacts once, however often a batch is applied."""

from sqlalchemy import func, select

from netwarden.ingest.batch import Batch
from netwarden.ingest.text_signals import TextSignals
from netwarden.store import open_store
from netwarden.store.schema import contacts, signals
from netwarden.text import terms as terms_mod


def test_hook_idempotent(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'nw.db'}")
    path = terms_mod.resources.files("netwarden.text").joinpath("demo_terms.yaml")
    hook = TextSignals(store, terms_path=str(path))
    batch = Batch(
        accounts=[{"id": "a1", "handle": "x", "display_name": "V A N T R O", "bio": "kik: zorb_lat"}],
        posts=[{"id": "p1", "author_id": "a1", "text": "see #quixfen", "urls": ["https://t.me/+AbC"], "hashtags": []}],
        media=[{"id": "m1", "alt_text": "gorvex", "post_id": "p1", "account_id": "a1"}],
    )
    for _ in range(2):
        with store.engine.begin() as conn:
            hook.on_batch(conn, batch)
    with store.engine.connect() as conn:
        kinds = sorted(r[0] for r in conn.execute(select(signals.c.kind)))
        n_contacts = conn.execute(select(func.count()).select_from(contacts)).scalar()
    assert kinds == ["off_platform_route", "term_hit", "term_hit", "term_hit"]
    assert n_contacts == 2
    store.close()
