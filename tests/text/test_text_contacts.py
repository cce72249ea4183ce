"""Off-platform contacts: platforms, obfuscated forms, spans."""

import pytest

from netwarden.text.contacts import contacts_in_url, extract_contacts, extract_contacts_many

SESSION = "05" + "ab" * 32


@pytest.mark.parametrize(
    "text, platform, handle",
    [
        ("kik: zorb_lat99", "kik", "zorb_lat99"),
        ("add my k1k vantro.x", "kik", "vantro.x"),
        ("k🔥i🔥k gorvex", "kik", "gorvex"),
        ("Ｋｉｋ： ｚｏｒｂ", "kik", "zorb"),
        ("snap: x_y", "snapchat", "x_y"),
        ("s-n-a-p => plim.zo", "snapchat", "plim.zo"),
        ("👻 quixfen_1", "snapchat", "quixfen_1"),
        ("wa.me/447700900123", "whatsapp", "+447700900123"),
        ("whatsapp +44 7700 900123", "whatsapp", "+447700900123"),
        ("https://chat.whatsapp.com/AbCdEf123", "whatsapp", "group:AbCdEf123"),
        ("t.me/zorblat_chan", "telegram", "zorblat_chan"),
        ("https://t.me/+AbC123", "telegram", "invite:AbC123"),
        ("telegram @vantro_x", "telegram", "vantro_x"),
        ("tg: vantro_x", "telegram", "vantro_x"),
        ("signal: vantro.42", "signal", "vantro.42"),
        ("session " + SESSION, "session", SESSION),
        ("wickr me: gorvex_1", "wickr", "gorvex_1"),
        ("threema: ABCD1234", "threema", "abcd1234"),
        ("discord.gg/abcDEF", "discord", "invite:abcDEF"),
        ("matrix @zorb:matrix.example.org", "matrix", "@zorb:matrix.example.org"),
        ("mail zorb.lat@example.com", "email", "zorb.lat@example.com"),
        ("zorb (at) example (dot) com", "email", "zorb@example.com"),
        ("call +1 202 555 0143 now", "phone", "+12025550143"),
    ],
)
def test_platforms(text, platform, handle):
    got = [(c.platform, c.handle) for c in extract_contacts(text)]
    assert (platform, handle) in got


def test_span_in_original():
    text = "bio ✨ Ｋｉｋ： ｚｏｒｂ ✨"
    (c,) = extract_contacts(text)
    assert text[c.start:c.end] == "Ｋｉｋ： ｚｏｒｂ"


def test_same_handle_same_key():
    a = extract_contacts("kik: ZORB_lat")[0]
    b = extract_contacts("k.i.k zorb_lat")[0]
    assert a.key() == b.key()


def test_benign_text_has_no_contacts():
    assert extract_contacts("I like to snap photos of my kids playing signal games at the kick off") == []


def test_contacts_in_url():
    assert contacts_in_url("https://t.me/zorblat").handle == "zorblat"
    assert contacts_in_url("https://example.com/") is None


def _generated_texts(n: int, seed: int = 11) -> list[str]:
    """Texts built to sit on the edges of the keyword and digit cues: leet, gaps of punctuation,
    emoji, zero-width and non-ASCII spaces, fullwidth forms, keywords glued to words, digits
    spread between other characters, links, emails, session and matrix ids."""
    import random

    from netwarden.text.contacts import _LEET, KEYWORDS

    rng = random.Random(seed)
    words = ["the", "was", "a", "want", "disco", "tiger", "skip", "kiwi", "snapper", "signals", "what",
             "sessions", "tele", "day", "at", "dot", "me", "id", "is", "wait", "scan", "digital", "talk"]
    gaps = ["", "", "", ".", "-", "🔥", "..", " ", "\u200b", "\u3000", "\u00a0", "_", "*~", "\t", "\n", "é", "  "]
    handles = ["zorb_lat", "vantro.42", "gorvex", "q1", "plim.zo", "x", "abcd1234", "quixfen_1"]
    kws = [k for ks in KEYWORDS.values() for k in ks]

    def obfuscate(k: str) -> str:
        out = []
        for i, ch in enumerate(k):
            if ch != " " and rng.random() < 0.3:
                ch = rng.choice(_LEET.get(ch, ch))
            if rng.random() < 0.15:
                ch = ch.upper()
            if rng.random() < 0.1 and ch.isascii() and ch.isalnum():
                ch = chr(ord(ch) - 0x20 + 0xFF00) if "!" <= ch <= "~" else ch  # fullwidth
            out.append(ch)
            if i < len(k) - 1 and rng.random() < 0.25:
                out.append(rng.choice(gaps))
        return "".join(out)

    def digits() -> str:
        return "".join(rng.choice("0123456789") + rng.choice(["", "", " ", "-", "..", "🔥", "ab", "\u3000"])
                       for _ in range(rng.randint(3, 12)))

    parts = [lambda: rng.choice(words), lambda: obfuscate(rng.choice(kws)), lambda: rng.choice(handles),
             lambda: rng.choice([":", " :", "=>", "-", "is", "@", "(", "|"]), digits,
             lambda: rng.choice(["t.me/zorblat", "wa.me/447700900123", "zorb@example.com", "05" + "ab" * 32,
                                 "@zorb:matrix.example.org", "👻 plim", "+1 202 555 0143", "discord.gg/xy",
                                 "zorb at example dot com", "plim (at) example (dot) org"])]
    texts = []
    for _ in range(n):
        k = rng.randint(1, 12)
        glue = rng.choice([" ", " ", "", rng.choice(gaps)])
        texts.append(glue.join(rng.choice(parts)() for _ in range(k)))
    return texts


def test_batch_extraction_equals_one_by_one():
    """extract_contacts_many flags keyword cues for a whole batch with Hyperscan; it must flag every
    text where the exact cue regex matches, and so give exactly extract_contacts' results."""
    from netwarden.text.contacts import _ANY_KW_RE, _keyword_cues, extract_contacts_many, fold

    texts = _generated_texts(6000)
    exact = {i for i, t in enumerate(texts) if _ANY_KW_RE.search(fold(t))}
    flagged = _keyword_cues([fold(t) for t in texts])
    assert exact - flagged == set()
    assert len(exact) > 1000  # the generator does reach the cue
    one_by_one = [extract_contacts(t) for t in texts]
    assert extract_contacts_many(texts) == one_by_one
    platforms = {c.platform for cs in one_by_one for c in cs}
    from netwarden.text.normalize import fold_map, fold_walk

    for t in [*texts, "Plain ASCII, no controls", "tab\there", "del\x7f", "ÄÖ"]:
        folded, offs = fold_map(t)
        assert (folded, offs if offs is not None else list(range(len(t) + 1))) == fold_walk(t)
    assert {"kik", "snapchat", "telegram", "signal", "wickr", "discord", "phone", "email"} <= platforms


def test_batch_extraction_on_plain_text():
    texts = ["I like to snap photos", "", "kik: zorb_lat99", "was a great day at the disco with tg friends"]
    assert extract_contacts_many(texts) == [extract_contacts(t) for t in texts]
    assert [c.handle for c in extract_contacts_many(texts)[2]] == ["zorb_lat99"]
