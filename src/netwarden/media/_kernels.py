"""Compiled inner loops of the PDQ index (numba, a base dependency).

One query at a time, in one thread: probe every chunk's buckets, verify each candidate's full
256-bit distance with four popcounts, keep hits, drop duplicates found through several chunks.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

PREFETCH = 16  # candidates ahead: hide the memory latency of the random row reads


@intrinsic
def _prefetch_row(typingctx, arr, row):
    """Prefetch arr[row, 0] (LLVM's llvm.prefetch: read, high locality, data cache)."""
    sig = types.void(arr, row)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        idx = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [idx, zero], wraparound=False, boundscheck=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _popcount64(typingctx, x):
    """LLVM's ctpop: one POPCNT instruction where the CPU has it."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


@njit(cache=True, nogil=True)
def chunk_keys(h8, chunks):
    """(n, 32) uint8 hashes, (m, b) bit positions -> (n, m) int64 keys."""
    n = h8.shape[0]
    m, b = chunks.shape
    out = np.empty((n, m), dtype=np.int64)
    for i in range(n):
        for j in range(m):
            k = 0
            for t in range(b):
                p = chunks[j, t]
                k = (k << 1) | ((h8[i, p >> 3] >> (7 - (p & 7))) & 1)
            out[i, j] = k
    return out


@njit(cache=True, nogil=True)
def build_csr(keys, size, offsets, rows):
    """Counting sort of each chunk's keys: offsets (m, size+1), rows (m, n) filled in place."""
    n, m = keys.shape
    for j in range(m):
        off = offsets[j]
        off[:] = 0
        for i in range(n):
            off[keys[i, j] + 1] += 1
        for k in range(size):
            off[k + 1] += off[k]
        fill = off[:size].copy()
        for i in range(n):
            k = keys[i, j]
            rows[j, fill[k]] = i
            fill[k] += 1


@njit(cache=True, nogil=True)
def _verify(buf, nbuf, j, qi, q0, q1, q2, q3, h64, alive, radius, chunk_masks, r, out_q, out_r, out_d, cnt):
    """Check buffered candidates of chunk j; returns the new hit count, or -1 when out of room."""
    cap = out_q.shape[0]
    for k in range(min(PREFETCH, nbuf)):
        _prefetch_row(h64, buf[k])
    for k in range(nbuf):
        if k + PREFETCH < nbuf:
            _prefetch_row(h64, buf[k + PREFETCH])
        row = buf[k]
        x0 = h64[row, 0] ^ q0
        x1 = h64[row, 1] ^ q1
        x2 = h64[row, 2] ^ q2
        x3 = h64[row, 3] ^ q3
        d = _popcount64(x0) + _popcount64(x1) + _popcount64(x2) + _popcount64(x3)
        if d <= radius and alive[row]:
            dup = False
            for jj in range(j):
                c = (_popcount64(x0 & chunk_masks[jj, 0]) + _popcount64(x1 & chunk_masks[jj, 1])
                     + _popcount64(x2 & chunk_masks[jj, 2]) + _popcount64(x3 & chunk_masks[jj, 3]))
                if c <= r:
                    dup = True
                    break
            if dup:
                continue
            if cnt >= cap:
                return -1
            out_q[cnt] = qi
            out_r[cnt] = row
            out_d[cnt] = d
            cnt += 1
    return cnt


@njit(cache=True, nogil=True)
def search(qkeys, q64, masks, offsets, rows, h64, alive, radius, chunk_masks, r, out_q, out_r, out_d):
    """Range search; returns the number of hits written, or -1 if the output buffers are too small.

    Per query and chunk, candidate rows are gathered from the probed buckets (sequential reads)
    into a buffer, then verified with the rows prefetched ahead. A hit found through chunk j is
    kept only if no earlier chunk would also have found it (its XOR with the query has <= r bits
    in that chunk), so each row is reported once without a sort.
    """
    nq, m = qkeys.shape
    buf = np.empty(4096, dtype=np.int64)
    cnt = 0
    for qi in range(nq):
        q0, q1, q2, q3 = q64[qi, 0], q64[qi, 1], q64[qi, 2], q64[qi, 3]
        for j in range(m):
            off = offsets[j]
            rj = rows[j]
            base = qkeys[qi, j]
            nbuf = 0
            for mi in range(masks.shape[0]):
                key = base ^ masks[mi]
                for pos in range(off[key], off[key + 1]):
                    if nbuf == buf.shape[0]:
                        cnt = _verify(buf, nbuf, j, qi, q0, q1, q2, q3, h64, alive, radius, chunk_masks, r,
                                      out_q, out_r, out_d, cnt)
                        if cnt < 0:
                            return -1
                        nbuf = 0
                    buf[nbuf] = rj[pos]
                    nbuf += 1
            if nbuf:
                cnt = _verify(buf, nbuf, j, qi, q0, q1, q2, q3, h64, alive, radius, chunk_masks, r,
                              out_q, out_r, out_d, cnt)
                if cnt < 0:
                    return -1
    return cnt
