"""Safe decoding: limits, EXIF orientation, colour modes, animation, and one clear error type."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from netwarden.errors import UserError
from netwarden.media.decode import MediaError, decode, decode_frames, to_rgb
from netwarden.media.hashing import hamming_hex, hash_bytes, hash_file

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
MODES = TESTDATA / "pdq" / "misc-images" / "modes"


def gradient(w: int = 320, h: int = 240) -> Image.Image:
    """An abstract test image: colour gradients and a few shapes."""
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(w - 1, 1)).astype(np.uint8)
    g = (y * 255 // max(h - 1, 1)).astype(np.uint8)
    b = (((x // 40) + (y // 40)) % 2 * 200).astype(np.uint8)
    img = np.stack([r, g, b], axis=2)
    img[h // 4: h // 2, w // 5: w // 3] = (250, 30, 30)
    return Image.fromarray(img, "RGB")


def photo(w: int = 400) -> Image.Image:
    """The benign reference bridge photo, reduced: a textured, natural image."""
    img = Image.open(MODES / "original.jpg").convert("RGB")
    return img.resize((w, round(img.height * w / img.width)), Image.Resampling.LANCZOS)


def save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def pdq(rgb: np.ndarray) -> str:
    from netwarden.media.hashing import pdq_from_rgb

    return pdq_from_rgb(rgb, dihedral=False).hash


def base_shape(img: Image.Image) -> tuple[int, int, int]:
    return (img.height, img.width, 3)


def png_bomb(w: int, h: int) -> bytes:
    """A valid 1-bit PNG of w x h zero pixels: a few hundred KB that would decode to w*h bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = b"\0" * (1 + (w + 7) // 8)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row * 1000) for _ in range(h // 1000)]
    parts.append(comp.compress(row * (h % 1000)))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def test_media_error_is_a_user_error_with_one_sentence():
    with pytest.raises(MediaError) as ei:
        decode(b"", name="empty.jpg")
    assert isinstance(ei.value, UserError)
    msg = str(ei.value)
    assert "empty.jpg" in msg and msg.endswith(".") and "\n" not in msg
    assert ei.value.reason == "empty"


@pytest.mark.slow
def test_png_bomb_30000_square_is_refused_before_decoding():
    data = png_bomb(30000, 30000)
    assert len(data) < 2_000_000
    with pytest.raises(MediaError) as ei:
        decode(data, name="bomb.png")
    assert ei.value.reason == "too_many_pixels"
    # hash_bytes records the error and still gives the byte hashes
    h = hash_bytes(data, "bomb.png")
    assert h.error_reason == "too_many_pixels" and h.sha256 and h.pdq is None


def test_file_size_cap(tmp_path):
    p = tmp_path / "big.png"
    p.write_bytes(save(gradient(), "PNG"))
    with pytest.raises(MediaError) as ei:
        decode(p, max_bytes=100)
    assert ei.value.reason == "too_big"


def test_pixel_cap_is_configurable():
    with pytest.raises(MediaError) as ei:
        decode(save(gradient(320, 240), "PNG"), max_pixels=1000)
    assert ei.value.reason == "too_many_pixels"


def test_truncated_jpeg():
    data = save(gradient(640, 480), "JPEG", quality=90)
    with pytest.raises(MediaError) as ei:
        decode(data[: len(data) // 2], name="cut.jpg")
    assert ei.value.reason == "truncated"


def test_text_file_named_jpg(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("this is plain text, not a picture\n")
    with pytest.raises(MediaError) as ei:
        decode(p)
    assert ei.value.reason == "not_image"
    assert "notes.jpg" in str(ei.value) and "JPG" in str(ei.value)


def test_mislabelled_png_named_jpg_decodes_by_content(tmp_path):
    p = tmp_path / "really-a-png.jpg"
    p.write_bytes(save(gradient(), "PNG"))
    d = decode(p)
    assert d.format == "PNG" and d.rgb.shape == (240, 320, 3)


def test_corrupt_and_missing(tmp_path):
    data = bytearray(save(gradient(), "PNG"))
    data[60:200] = b"\xff" * 140  # smash the compressed stream
    with pytest.raises(MediaError) as ei:
        decode(bytes(data), name="smashed.png")
    assert ei.value.reason in ("corrupt", "truncated")
    with pytest.raises(MediaError) as ei:
        decode(tmp_path / "nope.png")
    assert ei.value.reason == "missing"


def test_zero_byte_file(tmp_path):
    p = tmp_path / "zero.jpg"
    p.write_bytes(b"")
    h = hash_file(p)
    assert h.error_reason == "empty" and h.md5 == "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize("orientation", [2, 3, 4, 5, 6, 7, 8])
def test_exif_orientation_is_applied(orientation):
    base = gradient(320, 240)
    # What a camera does: store pixels transformed, with the tag that undoes it.
    undo = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_270}[orientation]
    stored = base.transpose(undo)  # each of these is its own inverse, or pairs 6<->8
    if orientation == 6:
        stored = base.transpose(Image.Transpose.ROTATE_90)
    elif orientation == 8:
        stored = base.transpose(Image.Transpose.ROTATE_270)
    exif = Image.Exif()
    exif[0x0112] = orientation
    d = decode(save(stored, "JPEG", quality=95, exif=exif.tobytes()))
    assert d.rgb.shape == (240, 320, 3)
    assert hamming_hex(pdq(d.rgb), pdq(np.asarray(base))) <= 10


def test_cmyk_converted_properly():
    base = photo()
    d = decode(save(base.convert("CMYK"), "JPEG", quality=95))
    assert d.mode == "CMYK"
    assert hamming_hex(pdq(d.rgb), pdq(np.asarray(base))) <= 10
    naive = np.ascontiguousarray(np.asarray(base.convert("CMYK"))[..., :3])
    assert hamming_hex(pdq(naive), pdq(np.asarray(base))) > 100  # what a naive hasher gets


def test_palette_and_transparency():
    base = photo()
    p = base.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    d = decode(save(p, "PNG"))
    assert d.mode == "P"
    assert hamming_hex(pdq(d.rgb), pdq(np.asarray(base))) <= 10
    # a palette PNG with a transparent colour (tRNS) goes through RGBA and onto white
    pt = base.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    d2 = decode(save(pt, "PNG", transparency=0))
    assert d2.rgb.shape == base_shape(base)
    # fully transparent pixels become white, not black
    clear = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    assert (decode(save(clear, "PNG")).rgb == 255).all()


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "PA", "RGBA", "CMYK", "YCbCr", "HSV", "LAB", "I", "I;16", "F", "RGBX"])
def test_every_mode_in_memory(mode):
    base = photo()
    img = base.convert(mode) if mode != "I;16" else base.convert("L").convert("I;16")
    rgb = to_rgb(img)
    assert rgb.dtype == np.uint8 and rgb.shape == base_shape(base)
    limit = 30 if mode == "1" else 10
    assert hamming_hex(pdq(rgb), pdq(np.asarray(base))) <= limit


def test_sixteen_bit_and_float_are_scaled_not_clipped():
    ramp = (np.tile(np.linspace(0, 65535, 256), (64, 1))).astype(np.uint16)
    rgb16 = to_rgb(Image.fromarray(ramp))
    assert rgb16[0, 0, 0] == 0 and rgb16[0, -1, 0] == 255 and 100 < rgb16[0, 128, 0] < 155
    f = Image.fromarray(np.tile(np.linspace(0, 1, 256, dtype=np.float32), (64, 1)))
    rgbf = to_rgb(f)
    assert rgbf[0, 0, 0] == 0 and rgbf[0, -1, 0] == 255


def test_animated_gif_first_frame_and_all_frames():
    frames = [Image.new("RGB", (64, 48), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames = [f.copy() for f in frames]
    for i, f in enumerate(frames):
        f.paste((255, 255, 255), (i * 10, 10, i * 10 + 20, 30))
    data = save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    d = decode(data)
    assert d.frames == 3 and tuple(d.rgb[0, 0]) == (255, 0, 0)
    allf = list(decode_frames(data))
    assert len(allf) == 3 and tuple(allf[2].rgb[0, 0]) == (0, 0, 255)


@pytest.mark.parametrize("path", sorted(p.name for p in MODES.iterdir() if p.suffix != ".md"))
def test_reference_modes_match_original(path):
    ref = hash_file(MODES / "original.jpg", fast=False)
    h = hash_file(MODES / path, fast=False)
    assert h.error is None
    if h.quality == 0:
        assert not h.usable  # reported as unusable, not matched
    else:
        assert hamming_hex(h.pdq, ref.pdq) <= 10, path


def test_time_limit_main_thread_and_worker_thread():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (2000, 3000, 3), dtype=np.uint8), "RGB")
    data = save(noise, "JPEG", quality=95)
    with pytest.raises(MediaError) as ei:
        decode(data, name="slow.jpg", time_limit=0.0005)
    assert ei.value.reason == "timeout"
    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(MediaError) as ei:
            pool.submit(decode, data, name="slow.jpg", time_limit=0.0005).result()
    assert ei.value.reason == "timeout"
    assert decode(data, name="ok.jpg", time_limit=60).rgb.shape == (2000, 3000, 3)
