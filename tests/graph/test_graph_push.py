"""The push kernel compiled ahead of time (numba.pycc) gives exactly what the JIT gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import ROOT
from netwarden.graph import push
from netwarden.graph.push import build_kernel, ppr_push

KERNELS = ROOT / ".pytest_cache" / "netwarden-kernels"  # out of ~/.cache: compiled once per kernel source


@pytest.fixture(scope="module")
def kernel():
    path = build_kernel(KERNELS)
    assert path is not None and path.parent == KERNELS and path.exists()
    return path


def _graph(seed, n, ptr, idx, dat):
    m = sp.random(n, n, density=0.03, random_state=seed, format="csr")
    m = (m + m.T).tocsr()
    m.data = (m.data * 3).astype(dat)
    indptr, indices = m.indptr.astype(ptr), m.indices.astype(idx)
    deg = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
    return indptr, indices, m.data, deg


@pytest.mark.parametrize(("ptr", "idx", "dat"), [("i4", "i4", "f4"), ("i4", "i4", "f8"), ("i8", "i8", "f4"),
                                                 ("i8", "i4", "f8")])
def test_ahead_of_time_kernel_equals_jit(kernel, ptr, idx, dat):
    for seed in range(3):
        indptr, indices, data, deg = _graph(seed, 400, ptr, idx, dat)
        seeds = np.array([0, 7, 7 + seed])
        a = ppr_push(indptr, indices, data, deg, seeds, alpha=0.1, eps=1e-6, compiled="aot", kernel_dir=KERNELS)
        b = ppr_push(indptr, indices, data, deg, seeds, alpha=0.1, eps=1e-6, compiled="jit")
        assert len(a[0]) > 10
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x, y)


def test_fresh_process_ranks_the_same_without_importing_numba(kernel, tmp_path):
    indptr, indices, data, deg = _graph(5, 300, "i4", "i4", "f4")
    np.savez(tmp_path / "g.npz", indptr=indptr, indices=indices, data=data, deg=deg)
    code = (
        "import sys, numpy as np\n"
        "from netwarden.graph.push import ppr_push\n"
        f"g = np.load({str(tmp_path / 'g.npz')!r})\n"
        f"n, p, r = ppr_push(g['indptr'], g['indices'], g['data'], g['deg'], [1, 2], eps=1e-6, kernel_dir={str(KERNELS)!r})\n"
        "np.save(sys.argv[1], p[np.lexsort((n, -p))]); print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p.npy")], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
    n, p, _ = ppr_push(indptr, indices, data, deg, [1, 2], eps=1e-6, compiled="jit")
    assert np.array_equal(np.load(tmp_path / "p.npy"), p[np.lexsort((n, -p))])


def test_without_a_compiled_kernel_the_jit_runs(kernel, monkeypatch, tmp_path):
    monkeypatch.setattr(push, "_loaded", {})
    empty = tmp_path / "empty"
    indptr, indices, data, deg = _graph(1, 200, "i4", "i4", "f4")
    nodes, p, _ = ppr_push(indptr, indices, data, deg, [0], kernel_dir=empty)
    assert "jit" in push._loaded and push._loaded[("aot", empty)] is None
    assert p.sum() > 0.5 and 0 in nodes.tolist()
    with pytest.raises(RuntimeError, match="ahead-of-time"):
        ppr_push(indptr, indices, data, deg, [0], compiled="aot", kernel_dir=empty)
    with pytest.raises(RuntimeError, match="ahead-of-time"):  # "off": none looked for, even with one built
        ppr_push(indptr, indices, data, deg, [0], compiled="aot", kernel_dir="off")
    assert push.kernel_path("off") is None and push.build_kernel("off") is None
    assert push.kernel_path(None) == push.kernel_path("") == Path.home() / ".cache" / "netwarden" / "kernels"


@pytest.mark.parametrize("compiled", ["aot", "jit"])
def test_reused_work_arrays_give_what_fresh_ones_give(kernel, compiled):
    """The work arrays are kept between calls and cleared by the kernel: a call after others (one of
    them stopped by max_pushes, with nodes still queued) ranks exactly as one in a fresh process."""
    indptr, indices, data, deg = _graph(7, 500, "i4", "i4", "f4")
    push._work.clear()
    first = [ppr_push(indptr, indices, data, deg, [s], eps=1e-6, compiled=compiled, kernel_dir=KERNELS) for s in (3, 11)]
    ppr_push(indptr, indices, data, deg, [5, 9], eps=1e-7, max_pushes=7, compiled=compiled, kernel_dir=KERNELS)  # cut short
    for s in (11, 3):
        push._work.clear()  # fresh, all zero
        fresh = ppr_push(indptr, indices, data, deg, [s], eps=1e-6, compiled=compiled, kernel_dir=KERNELS)
        ppr_push(indptr, indices, data, deg, [5, 9], eps=1e-7, max_pushes=7, compiled=compiled, kernel_dir=KERNELS)
        reused = ppr_push(indptr, indices, data, deg, [s], eps=1e-6, compiled=compiled, kernel_dir=KERNELS)
        for a, b, c in zip(fresh, reused, first[(3, 11).index(s)], strict=True):
            assert np.array_equal(a, b) and np.array_equal(a, c)
    assert push._work and all(not w.any() for ws in push._work for w in ws)  # left zero


def test_concurrent_callers_do_not_share_work_arrays(kernel):
    from concurrent.futures import ThreadPoolExecutor

    indptr, indices, data, deg = _graph(8, 500, "i4", "i4", "f4")
    want = {s: ppr_push(indptr, indices, data, deg, [s], eps=1e-7, kernel_dir=KERNELS) for s in range(8)}
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda s: (s, ppr_push(indptr, indices, data, deg, [s], eps=1e-7, kernel_dir=KERNELS)), list(range(8)) * 5))
    for s, out in got:
        assert all(np.array_equal(a, b) for a, b in zip(out, want[s], strict=True))
