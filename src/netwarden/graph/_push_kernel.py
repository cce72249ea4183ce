"""The local push kernel as plain Python, compiled by numba: ahead of time (numba.pycc, :func:`.push.build_kernel`)
or just in time (:mod:`.push` falls back to ``njit`` when no compiled module is there). No numba import here:
a process with the compiled module never loads numba."""

import numpy as np


def push(indptr, indices, data, deg, seeds, mass, alpha, eps, max_pushes, slot):
    """`slot` (int32, the graph's size): the caller's work array, all zero. A node this call touches gets
    the next slot (stored as slot + 1) in the compact arrays of its p, r and queued flag, which grow with
    the nodes touched, not with the graph; the slots written are zeroed again before it returns, so a
    process allocates the graph-sized array once (4 bytes an account) instead of p, r and two flags
    (18 bytes an account) or fresh pages on every call."""
    cap = max(1024, 2 * seeds.shape[0])  # the seeds fit: only a push grows the compact arrays
    queue = np.empty(cap, dtype=np.int64)
    head = 0
    tail = 0
    touched = np.empty(cap, dtype=np.int64)
    p = np.zeros(cap)
    r = np.zeros(cap)
    inq = np.zeros(cap, dtype=np.bool_)
    nt = 0
    for i in range(seeds.shape[0]):
        s = seeds[i]
        k = slot[s] - 1
        if k < 0:
            k = nt
            touched[nt] = s
            slot[s] = nt + 1
            nt += 1
        r[k] += mass[i]
        if not inq[k]:
            inq[k] = True
            if tail == queue.shape[0]:
                queue = np.concatenate((queue, np.empty(queue.shape[0], dtype=np.int64)))
            queue[tail] = s
            tail += 1
    pushes = 0
    while head < tail and pushes < max_pushes:
        u = queue[head]
        head += 1
        ku = slot[u] - 1
        inq[ku] = False
        ru = r[ku]
        du = deg[u]
        if du <= 0.0:
            p[ku] += ru
            r[ku] = 0.0
            continue
        if ru < eps * du:
            continue
        pushes += 1
        p[ku] += alpha * ru
        r[ku] = 0.0
        share = (1.0 - alpha) * ru / du
        need = nt + indptr[u + 1] - indptr[u]  # at most one new slot a neighbour
        if need > touched.shape[0]:  # the compact arrays grow (inline: numba compiles one function)
            m = max(2 * touched.shape[0], need)
            t2 = np.empty(m, dtype=np.int64)
            t2[:nt] = touched[:nt]
            touched = t2
            p2 = np.zeros(m)
            p2[:nt] = p[:nt]
            p = p2
            r2 = np.zeros(m)
            r2[:nt] = r[:nt]
            r = r2
            q2 = np.zeros(m, dtype=np.bool_)
            q2[:nt] = inq[:nt]
            inq = q2
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            k = slot[v] - 1
            if k < 0:
                k = nt
                touched[nt] = v
                slot[v] = nt + 1
                nt += 1
            r[k] += share * data[j]
            if not inq[k] and r[k] >= eps * deg[v]:
                inq[k] = True
                if tail == queue.shape[0]:
                    # compact the consumed head before growing
                    queue = np.concatenate((queue[head:tail], np.empty(queue.shape[0], dtype=np.int64)))
                    tail -= head
                    head = 0
                queue[tail] = v
                tail += 1
    t = touched[:nt].copy()
    for i in range(nt):  # every slot written is a touched node's
        slot[t[i]] = 0
    return t, p[:nt].copy(), r[:nt].copy(), pushes
