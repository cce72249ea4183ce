"""Local personalized PageRank by push (Andersen-Chung-Lang), compiled.

Work depends on 1/(alpha*eps), not on the graph's size: only nodes whose residual exceeds
eps times their degree are ever pushed.

The kernel (:mod:`._push_kernel`) is compiled ahead of time by numba.pycc into a small extension
module in the kernel_dir setting's folder (:func:`kernel_path`: default ``~/.cache/netwarden/kernels``;
``off`` disables it; the face passes it down, Store.kernel_dir -> Prepared -> :func:`ppr_push`),
named by a digest of the kernel's source, Python and numpy: a fresh process imports it in a few ms,
without importing numba or loading numba's per-process cache (0.5-1 s). :func:`build_kernel` makes
it (`netwarden graph build` calls it); without it, or for dtypes it was not built for, the same
source runs under ``numba.njit(cache=True)`` and gives the same results (tested).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

_KERNEL_SRC = Path(__file__).with_name("_push_kernel.py")
# (indptr, indices, data) dtypes compiled ahead of time; degrees, seeds and mass are always f8, i8, f8
_AOT_DTYPES = [("i4", "i4", "f4"), ("i4", "i4", "f8"), ("i8", "i8", "f4"), ("i8", "i8", "f8"), ("i8", "i4", "f4"),
               ("i8", "i4", "f8")]
_loaded: dict[object, object] = {}  # "jit" -> the JIT function; ("aot", folder) -> that folder's module or None


def kernel_path(setting: str | Path | None = None) -> Path | None:
    """The folder of the kernel_dir setting: None or empty for the default, "off" for none."""
    d = str(setting).strip() if setting is not None else ""
    if d == "off":
        return None
    return Path(d).expanduser() if d else Path.home() / ".cache" / "netwarden" / "kernels"


def _module_name() -> str:
    h = hashlib.sha256(_KERNEL_SRC.read_bytes())
    h.update(f"{sys.version_info[:2]} {np.__version__} {importlib.machinery.EXTENSION_SUFFIXES[0]}".encode())
    return "nw_push_" + h.hexdigest()[:16]


def _aot(setting: str | Path | None):
    """The ahead-of-time compiled module in the kernel_dir setting's folder, or None."""
    d = kernel_path(setting)
    key = ("aot", d)
    if key in _loaded:
        return _loaded[key]
    mod = None
    if d is not None:
        name = _module_name()
        path = d / (name + importlib.machinery.EXTENSION_SUFFIXES[0])
        if path.exists():
            try:
                spec = importlib.util.spec_from_file_location(name, path)
                mod = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(mod)
            except ImportError:
                mod = None  # built for another platform or damaged: the JIT path still works
    _loaded[key] = mod
    return mod


def _jit():
    if "jit" not in _loaded:
        from numba import njit

        from . import _push_kernel

        _loaded["jit"] = njit(cache=True)(_push_kernel.push)
    return _loaded["jit"]


def _code(a: np.ndarray) -> str:
    return a.dtype.str[1:]


def build_kernel(setting: str | Path | None = None) -> Path | None:
    """Compile the push kernel ahead of time into the kernel_dir setting's folder (tens of seconds, once
    per kernel source and Python/numpy).

    Written to a temporary folder and renamed into place, so a process never imports a half-written
    module. Returns its path, or None when disabled (kernel_dir `off`)."""
    d = kernel_path(setting)
    if d is None:
        return None
    name = _module_name()
    target = d / (name + importlib.machinery.EXTENSION_SUFFIXES[0])
    if target.exists():
        return target
    import warnings

    with warnings.catch_warnings():  # pending deprecation since numba 0.57, no replacement yet: pinned by our tests
        warnings.simplefilter("ignore")
        from numba.pycc import CC

    from . import _push_kernel

    d.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=d, prefix=".build-") as tmp:
        cc = CC(name)
        cc.output_dir = tmp
        cc.verbose = False
        for ptr, idx, dat in _AOT_DTYPES:
            sig = (f"Tuple((i8[:], f8[:], f8[:], i8))({ptr}[:], {idx}[:], {dat}[:], f8[:], i8[:], f8[:], f8, f8, i8, "
                   "i4[:])")
            cc.export(f"push_{ptr}_{idx}_{dat}", sig)(_push_kernel.push)
        cc.compile()
        built = next(Path(tmp).glob(name + "*"))
        os.replace(built, target)
    _loaded.pop(("aot", d), None)
    return target


def ppr_push(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, deg: np.ndarray, seeds: np.ndarray,
             alpha: float = 0.1, eps: float = 1e-7, max_pushes: int = 5_000_000,
             mass: np.ndarray | None = None, compiled: str = "auto",
             kernel_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Approximate PPR from `seeds` (mass split evenly unless given). Returns (nodes, p, residual).

    `kernel_dir`: the kernel_dir setting (:func:`kernel_path`), where the ahead-of-time module is looked for.

    `compiled`: "auto" (the ahead-of-time module when there is one for these dtypes, else the JIT),
    "aot" (that module or an error), "jit"."""
    seeds = np.asarray(seeds, dtype=np.int64)
    if mass is None:
        mass = np.full(len(seeds), 1.0 / max(1, len(seeds)))
    # int32 or int64 indices, float32 or float64 weights, as the graph holds them (no copy); read-only
    # views so arrays from memory and from a mapped snapshot share one compiled version per dtype
    indptr, indices, data, deg = (_readonly(a) for a in (indptr, indices, data, np.asarray(deg, dtype=np.float64)))
    args = (indptr, indices, data, deg, seeds, np.asarray(mass, dtype=np.float64), float(alpha), float(eps),
            int(max_pushes))
    fn = None
    if compiled != "jit":
        mod = _aot(kernel_dir)
        fn = getattr(mod, f"push_{_code(indptr)}_{_code(indices)}_{_code(data)}", None) if mod is not None else None
        if fn is None and compiled == "aot":
            raise RuntimeError("no ahead-of-time push kernel for these dtypes (netwarden.graph.push.build_kernel)")
    work = _take_work(len(deg))
    nodes, p, r, _ = (fn or _jit())(*args, *work)
    _give_back(work)  # only after a call that returned: it left them zero
    return nodes, p, r


# The work array (each node's slot in the kernel's compact p, r and flags; int32, 4 bytes an account) of one
# graph size, zero between calls (the kernel clears what it touched), reused across calls; one per
# concurrent caller (web workers' threads), so none is shared.
_work: list[tuple[np.ndarray, ...]] = []
_work_lock = threading.Lock()


def _take_work(n: int) -> tuple[np.ndarray, ...]:
    with _work_lock:
        while _work:
            w = _work.pop()
            if len(w[0]) == n:
                return w
    return (np.zeros(n, dtype=np.int32),)


def _give_back(work: tuple[np.ndarray, ...]) -> None:
    with _work_lock:
        _work[:] = [w for w in _work if len(w[0]) == len(work[0])][:3] + [work]


def _readonly(a: np.ndarray) -> np.ndarray:
    v = np.asarray(a).view()
    v.flags.writeable = False
    return v


if __name__ == "__main__":  # into the kernel_dir setting's folder, as `netwarden graph build` does
    from ..config import load

    print(build_kernel(load().kernel_dir))
