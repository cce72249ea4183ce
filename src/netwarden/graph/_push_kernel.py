"""The local push kernel as plain Python, compiled by numba: ahead of time (numba.pycc, :func:`.push.build_kernel`)
or just in time (:mod:`.push` falls back to ``njit`` when no compiled module is there). No numba import here:
a process with the compiled module never loads numba."""

import numpy as np


def push(indptr, indices, data, deg, seeds, mass, alpha, eps, max_pushes, p, r, inq, seen):
    """`p`, `r` (float64), `inq`, `seen` (bool): the caller's work arrays of the graph's size, all zero
    (False); the entries this call touched are zeroed again before it returns, so a process allocates
    and clears them once instead of on every call (at 10M accounts, 180 MB of fresh pages a call)."""
    cap = 1024
    queue = np.empty(cap, dtype=np.int64)
    head = 0
    tail = 0
    touched = np.empty(cap, dtype=np.int64)
    nt = 0
    for i in range(seeds.shape[0]):
        s = seeds[i]
        r[s] += mass[i]
        if not seen[s]:
            seen[s] = True
            if nt == touched.shape[0]:
                touched = np.concatenate((touched, np.empty(touched.shape[0], dtype=np.int64)))
            touched[nt] = s
            nt += 1
        if not inq[s]:
            inq[s] = True
            if tail == queue.shape[0]:
                queue = np.concatenate((queue, np.empty(queue.shape[0], dtype=np.int64)))
            queue[tail] = s
            tail += 1
    pushes = 0
    while head < tail and pushes < max_pushes:
        u = queue[head]
        head += 1
        inq[u] = False
        ru = r[u]
        du = deg[u]
        if du <= 0.0:
            p[u] += ru
            r[u] = 0.0
            continue
        if ru < eps * du:
            continue
        pushes += 1
        p[u] += alpha * ru
        r[u] = 0.0
        share = (1.0 - alpha) * ru / du
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            r[v] += share * data[j]
            if not seen[v]:
                seen[v] = True
                if nt == touched.shape[0]:
                    touched = np.concatenate((touched, np.empty(touched.shape[0], dtype=np.int64)))
                touched[nt] = v
                nt += 1
            if not inq[v] and r[v] >= eps * deg[v]:
                inq[v] = True
                if tail == queue.shape[0]:
                    # compact the consumed head before growing
                    queue = np.concatenate((queue[head:tail], np.empty(queue.shape[0], dtype=np.int64)))
                    tail -= head
                    head = 0
                queue[tail] = v
                tail += 1
    t = touched[:nt]
    pt = p[t]
    rt = r[t]
    for i in range(nt):  # every entry written is in t: p, r and seen of touched nodes, inq of queued ones
        v = t[i]
        p[v] = 0.0
        r[v] = 0.0
        seen[v] = False
        inq[v] = False
    return t, pt, rt, pushes
