"""PDQ (Meta's perceptual photo hash) computed by Netwarden itself, on a luma plane (numba).

Written from the published algorithm (ThreatExchange pdq/, "pdqhash-2017-10-09"): luma as
0.299 R + 0.587 G + 0.114 B, two passes of a Jarosz box filter along rows then columns with
windows ceil(side / 128), decimation to 64 x 64 at the cell centres, the 16 x 16 low-frequency
block of a 64-point DCT-II, one bit per coefficient above the median (Torben's selection), and
the image-domain gradient quality. The arithmetic is float32 in the reference's order, so the
hashes, the 8 dihedral variants and the quality equal `pdqhash` bit for bit on the same RGB
input (tests/media/test_media_pdq.py).

Why our own: `pdqhash` needs an RGB array (so a JPEG's chroma must be decoded and upsampled only
to be thrown away) and a float64 luma copy made in NumPy; here the hash runs straight on a
greyscale JPEG decode (decode.py's `luma=True`), and the dihedral variants come from sign and
transposition rules on the one DCT, as in the reference. Only the 64 columns the decimation
keeps are filtered in the last column pass.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MIN_HASHABLE_DIM = 5  # the reference hashes smaller images as all zeros, quality 0

# 16 x 64 DCT-II rows 1..16 (row 0, the mean, is not used), float32 as the reference stores them.
_D = np.empty((16, 64), dtype=np.float32)
for _i in range(16):
    for _j in range(64):
        _D[_i, _j] = float(np.float32(math.sqrt(2.0 / 64))) * math.cos((math.pi / 2.0 / 64) * (_i + 1) * (2 * _j + 1))
DCT = _D
del _D


@njit(cache=True, nogil=True)
def luma_from_rgb(rgb):
    """float32 luma of an H x W x 3 uint8 array, rounded the way pdqhash's NumPy code rounds."""
    h, w = rgb.shape[0], rgb.shape[1]
    out = np.empty((h, w), dtype=np.float32)
    for i in range(h):
        for j in range(w):
            out[i, j] = np.float32(rgb[i, j, 0] * 0.299 + rgb[i, j, 1] * 0.587 + rgb[i, j, 2] * 0.114)
    return out


@njit(cache=True, nogil=True)
def _window(old, new):
    return (old + 2 * new - 1) // (2 * new)


@njit(cache=True, nogil=True)
def _box_rows(src, dst, win, cols_out):
    """1-D box filter along every row (the reference's four phases), writing only `cols_out`
    (all columns when it is None's stand-in, an empty array)."""
    h, w = src.shape
    half = (win + 2) // 2
    p1 = half - 1
    p2 = win - half + 1
    p3 = w - win
    p4 = half - 1
    all_cols = cols_out.shape[0] == 0
    tmp = np.empty(w, dtype=np.float32)
    for i in range(h):
        row = src[i]
        out = dst[i] if all_cols else tmp
        s = np.float32(0.0)
        n = 0
        ri = 0
        li = 0
        oi = 0
        for _ in range(p1):
            s += row[ri]
            n += 1
            ri += 1
        for _ in range(p2):
            s += row[ri]
            n += 1
            out[oi] = s / np.float32(n)
            ri += 1
            oi += 1
        fn = np.float32(n)
        for _ in range(p3):
            s += row[ri]
            s -= row[li]
            out[oi] = s / fn
            li += 1
            ri += 1
            oi += 1
        for _ in range(p4):
            s -= row[li]
            n -= 1
            out[oi] = s / np.float32(n)
            li += 1
            oi += 1
        if not all_cols:
            for k in range(cols_out.shape[0]):
                dst[i, k] = tmp[cols_out[k]]


@njit(cache=True, nogil=True)
def _box_cols(src, dst, win):
    """1-D box filter down every column, all columns at once (each column's sums in its own
    accumulator, so the order of additions per column is the reference's)."""
    h, w = src.shape
    half = (win + 2) // 2
    p1 = half - 1
    p2 = win - half + 1
    p3 = h - win
    p4 = half - 1
    s = np.zeros(w, dtype=np.float32)
    n = 0
    ri = 0
    li = 0
    oi = 0
    for _ in range(p1):
        r = src[ri]
        for j in range(w):
            s[j] += r[j]
        n += 1
        ri += 1
    for _ in range(p2):
        r = src[ri]
        n += 1
        fn = np.float32(n)
        o = dst[oi]
        for j in range(w):
            s[j] += r[j]
            o[j] = s[j] / fn
        ri += 1
        oi += 1
    fn = np.float32(n)
    for _ in range(p3):
        r = src[ri]
        q = src[li]
        o = dst[oi]
        for j in range(w):
            s[j] += r[j]
            s[j] -= q[j]
            o[j] = s[j] / fn
        li += 1
        ri += 1
        oi += 1
    for _ in range(p4):
        q = src[li]
        n -= 1
        fn = np.float32(n)
        o = dst[oi]
        for j in range(w):
            s[j] -= q[j]
            o[j] = s[j] / fn
        li += 1
        oi += 1


@njit(cache=True, nogil=True)
def _centres(n_in):
    out = np.empty(64, dtype=np.int64)
    for k in range(64):
        out[k] = int(((k + 0.5) * n_in) / 64)
    return out


@njit(cache=True, nogil=True)
def _downsample64(luma):
    """Two Jarosz passes (rows then columns, twice) and decimation to 64 x 64 cell centres."""
    h, w = luma.shape
    wr = _window(w, 64)  # along rows
    wc = _window(h, 64)  # along columns
    none = np.empty(0, dtype=np.int64)
    a = np.empty((h, w), dtype=np.float32)
    b = np.empty((h, w), dtype=np.float32)
    _box_rows(luma, a, wr, none)
    _box_cols(a, b, wc)
    cols = _centres(w)
    rows = _centres(h)
    # Second pass: the row filter keeps only the 64 decimated columns, so the column filter
    # runs on 64 columns; every value kept is computed exactly as the full pass would.
    c = np.empty((h, 64), dtype=np.float32)
    _box_rows(b, c, wr, cols)
    d = np.empty((h, 64), dtype=np.float32)
    _box_cols(c, d, wc)
    out = np.empty((64, 64), dtype=np.float32)
    for i in range(64):
        for j in range(64):
            out[i, j] = d[rows[i], j]
    return out


@njit(cache=True, nogil=True)
def _quality(a):
    g = 0
    for i in range(63):
        for j in range(64):
            d = int(((a[i, j] - a[i + 1, j]) * np.float32(100.0)) / np.float32(255.0))
            g += abs(d)
    for i in range(64):
        for j in range(63):
            d = int(((a[i, j] - a[i, j + 1]) * np.float32(100.0)) / np.float32(255.0))
            g += abs(d)
    q = g // 90
    return 100 if q > 100 else q


@njit(cache=True, nogil=True)
def _dct16(a, dm):
    t = np.zeros((16, 64), dtype=np.float32)
    for i in range(16):
        for k in range(64):
            dik = dm[i, k]
            ak = a[k]
            for j in range(64):
                t[i, j] += dik * ak[j]
    b = np.empty((16, 16), dtype=np.float32)
    for i in range(16):
        for j in range(16):
            s = np.float32(0.0)
            for k in range(64):
                s += t[i, k] * dm[j, k]
            b[i, j] = s
    return b


@njit(cache=True, nogil=True)
def _torben(m):
    n = m.shape[0]
    lo = m[0]
    hi = m[0]
    for i in range(1, n):
        if m[i] < lo:
            lo = m[i]
        if m[i] > hi:
            hi = m[i]
    half = (n + 1) // 2
    while True:
        guess = (lo + hi) / np.float32(2.0)
        less = 0
        greater = 0
        equal = 0
        maxlt = lo
        mingt = hi
        for i in range(n):
            v = m[i]
            if v < guess:
                less += 1
                if v > maxlt:
                    maxlt = v
            elif v > guess:
                greater += 1
                if v < mingt:
                    mingt = v
            else:
                equal += 1
        if less <= half and greater <= half:
            break
        elif less > greater:
            hi = maxlt
        else:
            lo = mingt
    if less >= half:
        return maxlt
    if less + equal >= half:
        return guess
    return mingt


@njit(cache=True, nogil=True)
def _variant(b, v):
    """The 16 x 16 DCT block of dihedral variant v (pdqhash.compute_dihedral's order)."""
    out = np.empty((16, 16), dtype=np.float32)
    for i in range(16):
        for j in range(16):
            x = b[i, j]
            if v == 0:  # orig
                out[i, j] = x
            elif v == 1:  # rot90
                out[j, i] = x if j & 1 else -x
            elif v == 2:  # rot180
                out[i, j] = -x if (i + j) & 1 else x
            elif v == 3:  # rot270
                out[j, i] = x if i & 1 else -x
            elif v == 4:  # flipx
                out[i, j] = x if i & 1 else -x
            elif v == 5:  # flipy
                out[i, j] = x if j & 1 else -x
            elif v == 6:  # flip_plus1 (transpose)
                out[j, i] = x
            else:  # flip_minus1 (anti-transpose)
                out[j, i] = -x if (i + j) & 1 else x
    return out


@njit(cache=True, nogil=True)
def _bits(b, row):
    """Bit k = i*16 + j of the reference goes to position 255 - k (pdqhash's vector order)."""
    flat = b.reshape(256)
    med = _torben(flat.copy())
    for k in range(256):
        row[255 - k] = 1 if flat[k] > med else 0


@njit(cache=True, nogil=True)
def pdq_luma(luma, n_variants, skip_filter_at_64):
    """(bits n_variants x 256 uint8 in pdqhash's vector order, quality) of a float32 luma plane."""
    h, w = luma.shape
    bits = np.zeros((n_variants, 256), dtype=np.uint8)
    if h < MIN_HASHABLE_DIM or w < MIN_HASHABLE_DIM:
        return bits, 0
    if skip_filter_at_64 and h == 64 and w == 64:
        a = luma.copy()
    else:
        a = _downsample64(luma)
    q = _quality(a)
    b = _dct16(a, DCT)
    for v in range(n_variants):
        _bits(_variant(b, v) if v else b, bits[v])
    return bits, q


@njit(cache=True, nogil=True)
def luma_from_grey(grey):
    h, w = grey.shape
    out = np.empty((h, w), dtype=np.float32)
    for i in range(h):
        for j in range(w):
            out[i, j] = np.float32(grey[i, j])
    return out


def hash_luma(luma: np.ndarray, dihedral: bool = True) -> tuple[np.ndarray, int]:
    """PDQ of a float32 luma plane: (bits, quality); bits is 8 x 256 with `dihedral`, else 1 x 256.

    Like pdqhash: `compute` skips the blur for an exactly 64 x 64 input, `compute_dihedral` does not.
    """
    luma = np.ascontiguousarray(luma, dtype=np.float32)
    if luma.ndim != 2:
        raise ValueError(f"a luma plane is 2-D, got shape {luma.shape}")
    bits, q = pdq_luma(luma, 8 if dihedral else 1, not dihedral)
    return bits, int(q)


def hash_rgb(rgb: np.ndarray, dihedral: bool = True) -> tuple[np.ndarray, int]:
    """PDQ of an H x W x 3 uint8 RGB array, equal to pdqhash.compute / compute_dihedral."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"an RGB image is H x W x 3, got shape {rgb.shape}")
    return hash_luma(luma_from_rgb(rgb), dihedral)


def hash_grey(grey: np.ndarray, dihedral: bool = True) -> tuple[np.ndarray, int]:
    """PDQ of an H x W uint8 greyscale plane (e.g. a JPEG's Y channel) taken as the luma."""
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    if grey.ndim != 2:
        raise ValueError(f"a greyscale plane is 2-D, got shape {grey.shape}")
    return hash_luma(luma_from_grey(grey), dihedral)
