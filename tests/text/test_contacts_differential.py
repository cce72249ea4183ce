"""Contacts of every family side by side: a bio that joins two of them must give exactly the
contacts of each, nothing read across the join (issue 16: "more at t.me/+<invite>" gave the email
more@t.me; "+44 7911 123456" gave a Telegram contact "+11123456"; invite codes were lower-cased)."""

import itertools
import random

import phonenumbers
import pytest

from netwarden.text.contacts import extract_contacts

SYL = ["zo", "rik", "vel", "mun", "tas", "qua", "brel", "ny", "fo", "dak", "lum", "xe", "pir", "gosh"]
JOINERS = [" | ", " more at ", " / ", ", ", " or ", "\n", " · ", " — ", ". ", " and find me at "]


def _user(rng: random.Random) -> str:
    return "".join(rng.choice(SYL) for _ in range(rng.randint(2, 3))) + str(rng.randint(10, 999))


def _code(rng: random.Random) -> str:
    """An invite code in mixed case, as the platforms make them."""
    alpha = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    return rng.choice(alpha) + "".join(rng.choice(alpha + "23456789") for _ in range(rng.randint(7, 15)))


# (country, national-number template): '#' is a random digit; only numbers phonenumbers says are valid are used
_NUMBERS = [("GB", "7911######"), ("GB", "20 79## ####"), ("GB", "161 496 ####"), ("US", "202 555 01##"),
            ("US", "415 8## ####"), ("DE", "30 9018####"), ("FR", "1 42 68 ## ##")]


def _number(rng: random.Random) -> phonenumbers.PhoneNumber:
    while True:
        region, tpl = rng.choice(_NUMBERS)
        digits = "".join(str(rng.randint(0, 9)) if c == "#" else c for c in tpl).replace(" ", "")
        n = phonenumbers.parse(digits, region)
        if phonenumbers.is_valid_number(n):
            return n


def _e164(n: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


def _intl(rng: random.Random, n: phonenumbers.PhoneNumber) -> str:
    s = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return rng.choice([s, s.replace(" ", ""), s.replace(" ", "-")])


# family -> maker(rng, region) -> (text, {expected (platform, handle)})
def _link(rng, region):
    w = _user(rng)
    return rng.choice([f"https://example.org/{w}", f"www.example.com/{w}?ref=bio", f"example.net/{w}/about"]), set()


def _contact_link(rng, region):
    u, c = _user(rng), _code(rng)
    n = _number(rng)
    return rng.choice([
        (f"t.me/{u}", {("telegram", u)}),
        (f"t.me/+{c}", {("telegram", f"invite:{c}")}),
        (f"https://t.me/joinchat/{c}", {("telegram", f"invite:{c}")}),
        (f"discord.gg/{c}", {("discord", f"invite:{c}")}),
        (f"https://discord.com/invite/{c}", {("discord", f"invite:{c}")}),
        (f"chat.whatsapp.com/{c}", {("whatsapp", f"group:{c}")}),
        (f"wa.me/{_e164(n)[1:]}", {("whatsapp", _e164(n))}),
        (f"kik.me/{u}", {("kik", u)}),
    ])


def _phone_intl(rng, region):
    n = _number(rng)
    return _intl(rng, n), {("phone", _e164(n))}


def _phone_national(rng, region):
    n = _number(rng)
    text = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
    if region is None:  # a national form names no country: nothing to read
        return text, set()
    local = phonenumbers.parse(text, region)  # read as the operator's region would dial it
    return text, ({("phone", _e164(local))} if phonenumbers.is_valid_number(local) else set())


def _labelled_phone(rng, region):
    n = _number(rng)
    label, platform = rng.choice([("whatsapp ", "whatsapp"), ("wa: ", "whatsapp"), ("tg: ", "telegram"),
                                  ("telegram ", "telegram"), ("signal ", "signal")])
    return label + _intl(rng, n), {(platform, _e164(n))}


def _handle(rng, region):
    u = _user(rng)
    return rng.choice([
        (f"kik: {u}", {("kik", u)}), (f"snap: {u}", {("snapchat", u)}), (f"👻 {u}", {("snapchat", u)}),
        (f"tg: {u}", {("telegram", u)}), (f"telegram @{u}", {("telegram", u)}),
        (f"signal: {u}.{rng.randint(10, 99)}", None), (f"wickr me: {u}", {("wickr", u)}),
        (f"discord: {u}", {("discord", u)}),
    ])


def _email(rng, region):
    u, v = _user(rng), _user(rng)
    return rng.choice([(f"{u}@example.com", {("email", f"{u}@example.com")}),
                       (f"{u}.{v}@mail.example.net", {("email", f"{u}.{v}@mail.example.net")}),
                       (f"{u} (at) example (dot) org", {("email", f"{u}@example.org")})])


FAMILIES = {"link": _link, "contact_link": _contact_link, "phone_intl": _phone_intl, "phone_national": _phone_national,
            "labelled_phone": _labelled_phone, "handle": _handle, "email": _email}


def _make(family, rng, region):
    text, want = FAMILIES[family](rng, region)
    if want is None:  # signal: the handle is the whole "name.NN"
        want = {("signal", text.split(": ", 1)[1])}
    return text, want


@pytest.mark.parametrize("region", [None, "GB"])
def test_no_contact_across_families(region):
    rng = random.Random(16)
    bad = []
    n = 0
    for fa, fb in itertools.product(FAMILIES, repeat=2):
        for joiner in JOINERS:
            for _ in range(4):
                ta, wa = _make(fa, rng, region)
                tb, wb = _make(fb, rng, region)
                for t, w in ((ta, wa), (tb, wb)):
                    got = {c.key() for c in extract_contacts(t, region=region)}
                    if got != w:
                        bad.append((t, sorted(got), sorted(w)))
                text = ta + joiner + tb
                got = {c.key() for c in extract_contacts(text, region=region)}
                n += 1
                if got != wa | wb:
                    bad.append((text, sorted(got - (wa | wb)), sorted((wa | wb) - got)))
    assert n == len(FAMILIES) ** 2 * len(JOINERS) * 4
    assert bad == [], f"{len(bad)} of {n} texts read wrong; first: {bad[:5]}"


def test_issue_examples():
    assert [c.key() for c in extract_contacts("more at t.me/+AbCdEf12345")] == [("telegram", "invite:AbCdEf12345")]
    assert [c.key() for c in extract_contacts("call +44 7911 123456 uk")] == [("phone", "+447911123456")]
    assert [c.key() for c in extract_contacts("join discord.gg/AbCdEF")] == [("discord", "invite:AbCdEF")]
    # the same invite from a bio and from a link entity is one key
    from netwarden.text.contacts import contacts_in_url

    assert contacts_in_url("https://discord.gg/AbCdEF").key() == ("discord", "invite:AbCdEF")
    # a plain-word "at" before a domain is English unless the name before it looks like an address
    assert extract_contacts("find me at example.com") == []
    assert [c.key() for c in extract_contacts("zorb.lat at example.com")] == [("email", "zorb.lat@example.com")]
