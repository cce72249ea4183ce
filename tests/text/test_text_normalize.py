"""Each normalization step, and the map from normalized positions back to the original."""

import random

import pytest

from netwarden.text.normalize import MAX_CHARS, Batch, fold, fold_map, loose, normalize_many


@pytest.mark.parametrize(
    "raw, folded",
    [
        ("ＺＯＲＢＬＡＴ", "zorblat"),  # NFKC fullwidth + case fold
        ("𝐳𝐨𝐫𝐛𝐥𝐚𝐭", "zorblat"),  # mathematical alphanumerics
        ("ZorBLat", "zorblat"),  # case
        ("zor\u200bb\u200dl\u2060at\ufeff", "zorblat"),  # zero-width and invisible
        ("zоrblаt", "zorblat"),  # Cyrillic о and а
        ("ζorblατ".replace("ζ", "z"), "zorblat"),  # Greek α τ
        ("zörblàt", "zorblat"),  # accents
        ("zo\u0308rblat", "zorblat"),  # combining accent
        ("vantro\ufe0f🔥\ufe0f", "vantro🔥"),  # emoji variation selectors
        ("a\U000e0041\U000e007fb", "ab"),  # tag characters
        ("مَدْرَسَة", "مدرسه"),  # tashkeel removed, taa marbuta -> haa
        ("كـــتاب", "كتاب"),  # tatweel
        ("أحمد إلى آخر", "احمد الي اخر"),  # alef forms, alef maksura
        ("٠١٢٣", "0123"),  # Arabic-Indic digits
        ("a\tb\nc\u00a0d", "a b c d"),  # whitespace
        ("x\ud800y", "x\ufffdy"),  # lone surrogate
        ("ﬁ ß", "fi ss"),  # expansions
    ],
)
def test_fold_steps(raw, folded):
    assert fold(raw) == folded
    assert normalize_many([raw]) == [folded]


@pytest.mark.parametrize(
    "raw, out",
    [
        ("k i k", "kik"),
        ("k.i.k", "kik"),
        ("s-n-a-p", "snap"),
        ("k🔥i🔥k", "kik"),
        ("z0rb1at", "zorbiat"),
        ("v4ntr0", "vantro"),
        ("zorb.lat", "zorbiat"),
        ("zorb_lat", "zorbiat"),
        ("g@rvex", "garvex"),
        ("hello @name!", "heiio @name!"),  # @ and ! not between letters stay
        ("two  spaces", "two spaces"),
        ("a b", "a b"),  # two single letters are not a spaced word
        # leet and spacing on the same letters
        ("k 1 k", "kik"),
        ("s-n-4-p", "snap"),
        ("s*!*b*3*b", "sibeb"),  # leet punctuation standing alone inside a spaced run is a letter
        ("k @ k", "kak"),
        ("z-0-r-8-1-@-7", "zorbiat"),
        ("k | i | k", "kik"),  # ... unless it is the run's separator
        ("a ! b ! c", "abc"),
        ("k i k !", "kik!"),  # ... or after the run's last letter
        ("k i k ! wow", "kik! wow"),
        ("hello ! world", "heiio ! worid"),  # not in a run: stays
    ],
)
def test_loose(raw, out):
    assert loose(raw) == out


def test_loose_flags_independent():
    assert loose("k1k", leet=False, spacing=True) == "k1k"
    assert loose("k 1 k", leet=True, spacing=False) == "k i k"
    assert loose("s * ! * b", leet=False, spacing=True) == "s * ! * b"


def test_fold_map_points_to_original():
    raw = "Ｈé\u200bllo ﬁ"
    out, offs = fold_map(raw)
    assert out == fold(raw) == "hello fi"
    assert [raw[offs[i]] for i in range(len(out))] == ["Ｈ", "é", "l", "l", "o", " ", "ﬁ", "ﬁ"]


def test_batch_agrees_with_fold_on_random_text():
    rnd = random.Random(7)
    alphabet = "abcXYZ 019.-_@!|ﬁßéü\u0301\u200bаоεα🔥\ufe0fمَدْرَسَةـ٠\U0001d433\U000e0041\x00\t"
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60))) for _ in range(300)]
    b = Batch(texts)
    assert b.texts_of() == [fold(t.replace("\x00", " ")) for t in texts]
    # every loose form maps back into its own text
    for key in [(True, True), (True, False), (False, True)]:
        form = b.form(*key)
        assert form.text.count("\x00") == len(texts) - 1
        import numpy as np

        idx = np.arange(len(form.codes))
        nonsep = form.codes != 0
        which, s, e = b.locate(form, idx[nonsep], idx[nonsep] + 1)
        assert (s >= 0).all() and (e <= np.array([len(b.texts[w]) for w in which])).all()


def test_long_text_is_capped():
    raw = "zorblat " * (MAX_CHARS // 4)
    assert len(fold(raw)) <= MAX_CHARS
    b = Batch([raw])
    assert len(b.form(True, True).codes) <= MAX_CHARS


def test_fold_map_ascii_fast_path_agrees_with_the_table():
    """Plain ASCII takes a shortcut; it must give exactly what the per-character walk gives."""
    import random
    import string

    from netwarden.text.normalize import fold_map, fold_walk

    rng = random.Random(5)
    shortcuts = 0
    every_ascii = [chr(c) * 2 for c in range(128)] + ["".join(map(chr, range(128)))]
    for s in every_ascii + ["".join(rng.choice(string.printable) for _ in range(rng.randint(0, 80)))
                            for _ in range(500)]:
        out, offs = fold_map(s)
        shortcuts += offs is None
        assert (out, offs if offs is not None else list(range(len(s) + 1))) == fold_walk(s)
    assert shortcuts > 0  # the shortcut is taken, so it is what is compared
