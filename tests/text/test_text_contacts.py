"""Off-platform contacts: platforms, obfuscated forms, spans."""

import pytest

from netwarden.text.contacts import contacts_in_url, extract_contacts

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
        ("https://chat.whatsapp.com/AbCdEf123", "whatsapp", "group:abcdef123"),
        ("t.me/zorblat_chan", "telegram", "zorblat_chan"),
        ("https://t.me/+AbC123", "telegram", "invite:abc123"),
        ("telegram @vantro_x", "telegram", "vantro_x"),
        ("tg: vantro_x", "telegram", "vantro_x"),
        ("signal: vantro.42", "signal", "vantro.42"),
        ("session " + SESSION, "session", SESSION),
        ("wickr me: gorvex_1", "wickr", "gorvex_1"),
        ("threema: ABCD1234", "threema", "abcd1234"),
        ("discord.gg/abcDEF", "discord", "invite:abcdef"),
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
