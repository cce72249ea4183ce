"""The graph built once: layers, fused matrix, degrees, priors and id index on disk, memory-mapped.

A cold process (a CLI command, a web worker, the stream worker) opens the newest snapshot with
``np.load(mmap_mode="r")`` instead of rebuilding the graph from the store: the pages are the
operating system's, shared by every process that maps them, and only those a call touches are read.

Layout, in ``<db>.graph/`` beside a SQLite file (or ``$NETWARDEN_GRAPH_DIR`` for any store)::

    CURRENT                 the version in use, one line
    .lock                   held while a version is written
    v<seq>-s<count>-<max>/  one version: the events up to <seq>, the signals table at <count> rows up to id <max>
        meta.json           format, accounts, edges, the mark above, the store it belongs to, how it was made
        ids_sorted.npy      account ids (UTF-8, fixed width), sorted; ids_pos.npy their rows, ids_rank.npy each row's place
        <layer>.{indptr,indices,data}.npy   one CSR per layer (int32 indices while they fit, float32 weights)
        fused.*.npy, deg.npy                the fused graph of every layer (LAYER_WEIGHTS) and its weighted degrees
        inter.{codes,palette,side_pos,side_val}.npy  the interaction layer inside the fused matrix (graph.layout)
        gk_<layer>.{key,val,names}.npy       the group key behind each group-layer edge (for explanations)
        gm_<layer>.{keys,order,acc_*,grp_*}.npy  the layer's groups: each key, and who is in it (graph/members.py)
        priors.{idx,val}.npy                 the signal priors that are not 1 (most accounts have no signal)
    A layer with no ties is not written (meta.json's "empty"); it is an all-zero row pointer when read.

A version is written into a temporary folder and renamed into place, then CURRENT is replaced
atomically, so a reader sees either the old version or the new one, never a half-written one; the
two newest versions are kept (a process may still map the older one). A snapshot whose mark differs
from the store's (new events or signals since) is stale: :func:`ensure` folds the events since into
it (``Graph.refresh``, the same graph a rebuild gives; graph.splice when they only change ties
between accounts it has) or rebuilds when there are more than ``REBUILD_AFTER`` of them, and writes
the next version.

Weights are stored as float32 (the graph in memory is rounded the same way, so a process that built
the graph and one that mapped it rank identically); the fused matrix is summed from the rounded layers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..store import graph_queries
from . import build as _build
from . import csr as light
from . import layout, splice
from .build import LAYERS, Graph, degrees, fused_of
from .csr import sp
from .members import Members
from .members import _encode as encode_keys

# 2: the interaction layer and kinds held in the fused matrix (graph.layout); 3: who made each tie (made_to);
# 4: kind bits packed (layout.Codes), ids stored once, sparse priors, empty layers not written;
# 5: pending follow requests no longer an interaction kind (the kind bits moved), declined requests stored
# 6: the groups of each group layer stored (graph/members.py), group weights by rounded sizes (build.group_weight)
FORMAT = 6
KEEP = 2  # versions kept on disk
MEMBER_PARTS = ("keys", "order", "acc_indptr", "acc_indices", "grp_indptr", "grp_indices")
# Past this many new events a rebuild is cheaper than folding them in (100k world: a refresh costs
# ~0.4 ms CPU per new follow, a rebuild ~15 s).
REBUILD_AFTER = 20_000


@dataclass(frozen=True)
class Mark:
    """How far a graph reads the store: the newest event seq, and the signals table's row count and max id."""

    seq: int
    signals: int
    signal_max: int

    @property
    def version(self) -> str:
        return f"v{self.seq:012d}-s{self.signals}-{self.signal_max}"

    def as_dict(self) -> dict:
        return {"last_event_seq": self.seq, "signals": self.signals, "signal_max_id": self.signal_max}


def store_mark(store) -> Mark:
    with store.reading() as conn:
        seq = graph_queries.last_event_seq(conn)
        cnt, mx = graph_queries.signals_mark(conn)
    return Mark(seq, cnt, mx)


def root_for(store) -> Path | None:
    """Where this store's snapshots live: the graph_dir setting its face opened it with
    (`Store.graph_dir`), else `<file>.graph` beside a SQLite file; None (no snapshot, the graph is built
    in each process) for an in-memory SQLite store, for another database without graph_dir, or when it
    is `off`."""
    env = (getattr(store, "graph_dir", None) or "").strip()
    if env.lower() == "off":
        return None
    if env:
        return Path(env).expanduser()
    db = store.sqlite_database
    if db and db != ":memory:":
        return Path(str(Path(db).expanduser().resolve()) + ".graph")
    return None


def store_identity(store) -> str:
    """A digest of the store's URL without its password: a snapshot is refused for another store."""
    db = store.sqlite_database
    if db:
        name = "sqlite:" + str(Path(db).expanduser().resolve())
    else:
        name = store.engine.url.render_as_string(hide_password=True).replace("***", "")
    return hashlib.sha256(name.encode()).hexdigest()[:16]


# -- the stored form ------------------------------------------------------------------------------

def _index_dtype(m: sp.csr_matrix):
    return np.int32 if m.nnz < 2**31 - 1 and m.shape[0] < 2**31 - 1 else np.int64


def _canonical(m: sp.csr_matrix, dtype) -> sp.csr_matrix:
    m = m.tocsr()
    if not m.has_canonical_format:  # sorted columns, no duplicates (graph/csr.py relies on it when it maps the files)
        m = m.copy()
        m.sum_duplicates()
    it = _index_dtype(m)
    out = sp.csr_matrix((m.data.astype(dtype, copy=False), m.indices.astype(it, copy=False),
                         m.indptr.astype(it, copy=False)), shape=m.shape, copy=False)
    out.has_sorted_indices = True
    return out


def stored_form(graph: Graph) -> Graph:
    """The graph as snapshots hold it: float32 weights, int32 indices (while they fit), uint8 kinds;
    its full fused matrix and degrees cached for Prepared."""
    from .expand import LAYER_WEIGHTS

    layers = {name: _canonical(m, np.float32) for name, m in graph.layers.items()}
    kinds = _canonical(graph.kinds, np.uint8)
    inter = layers.get("interaction")
    if inter is not None and np.array_equal(kinds.indptr, inter.indptr) and np.array_equal(kinds.indices, inter.indices):
        kinds = sp.csr_matrix((kinds.data, inter.indices, inter.indptr), shape=kinds.shape, copy=False)  # one pattern
        kinds.has_sorted_indices = True
    g = Graph(ids=graph.ids, index=graph.index, layers=layers, kinds=kinds, group_keys=graph.group_keys,
              last_event_seq=graph.last_event_seq,
              made_to=None if graph.made_to is None else _canonical(graph.made_to, np.uint8),
              declined=None if graph.declined is None else _canonical(graph.declined, np.uint8),
              members=graph.members)
    fused = fused_of(layers, LAYERS, LAYER_WEIGHTS, g.n)
    g.prepared[_full_key()] = (fused, degrees(fused))
    return layout.compact(g, fused)  # the interaction layer and kinds inside the fused matrix


def _full_key() -> tuple:
    from .expand import LAYER_WEIGHTS

    return (tuple(LAYERS), tuple(float(LAYER_WEIGHTS.get(n, 1.0)) for n in LAYERS))


# -- lazy views over the mapped arrays --------------------------------------------------------------

class SnapshotIds(Sequence):
    """Account ids by row, decoded on access from the mapped sorted id array (`rank`: each row's place in it)."""

    def __init__(self, sorted_ids: np.ndarray, rank: np.ndarray | None = None):
        self._s, self._rank = sorted_ids, rank  # rank None: the ids are in row order

    def array(self) -> np.ndarray:
        """The fixed-width ids in row order (a copy when they are held sorted)."""
        return self._s if self._rank is None else np.asarray(self._s)[np.asarray(self._rank)]

    def _at(self, i):
        if self._rank is None:
            return self._s[i]
        return self._s[int(self._rank[i])] if isinstance(i, (int, np.integer)) else self._s[self._rank[i]]

    def __len__(self) -> int:
        return len(self._s)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [b.decode() for b in self._at(np.arange(len(self))[i])]
        return self._at(i).decode()

    def __iter__(self) -> Iterator[str]:
        for lo in range(0, len(self), 65536):
            for b in self._at(np.arange(lo, min(len(self), lo + 65536))):
                yield b.decode()

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    @property
    def nbytes(self) -> int:
        return self._s.nbytes + (0 if self._rank is None else self._rank.nbytes)


class SparsePriors:
    """The signal priors over all accounts, held as the few that are not 1: reads like the dense array
    (`p[nodes]`, `p[i]`, ``np.asarray(p)``)."""

    def __init__(self, n: int, idx: np.ndarray, val: np.ndarray):
        self.n, self.idx, self.val = int(n), idx, val  # idx sorted

    @classmethod
    def of(cls, dense: np.ndarray) -> SparsePriors:
        dense = np.asarray(dense, dtype=np.float64)
        idx = np.flatnonzero(dense != 1.0)
        return cls(len(dense), idx.astype(np.int32 if len(dense) < 2**31 else np.int64), dense[idx])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, nodes):
        nodes = np.asarray(nodes, dtype=np.int64)
        if nodes.ndim and len(nodes) and (nodes.min() < -self.n or nodes.max() >= self.n):
            raise IndexError("account row out of range")
        if nodes.ndim == 0 and not -self.n <= int(nodes) < self.n:
            raise IndexError("account row out of range")
        nodes = np.where(nodes < 0, nodes + self.n, nodes)
        out = np.ones(nodes.shape)
        if len(self.idx):
            j = np.minimum(np.searchsorted(self.idx, nodes), len(self.idx) - 1)
            hit = np.asarray(self.idx[j]) == nodes
            out[hit] = np.asarray(self.val)[j[hit]]
        return out if nodes.ndim else float(out)

    def __array__(self, dtype=None, copy=None):
        out = np.ones(self.n)
        out[np.asarray(self.idx)] = self.val
        return out if dtype is None else out.astype(dtype)

    @property
    def nbytes(self) -> int:
        return self.idx.nbytes + self.val.nbytes


class SnapshotIndex(Mapping):
    """Account id -> row, by binary search in the mapped sorted id array."""

    def __init__(self, sorted_ids: np.ndarray, pos: np.ndarray):
        self._s, self._pos = sorted_ids, pos
        self._width = sorted_ids.dtype.itemsize

    def _find(self, key) -> int | None:
        if not isinstance(key, str):
            return None
        b = key.encode()
        if len(b) > self._width or not len(self._s) or b.endswith(b"\0"):
            return None
        i = int(np.searchsorted(self._s, b))
        if i < len(self._s) and self._s[i] == b:
            return int(self._pos[i])
        return None

    def __getitem__(self, key) -> int:
        i = self._find(key)
        if i is None:
            raise KeyError(key)
        return i

    def get(self, key, default=None):
        i = self._find(key)
        return default if i is None else i

    def __contains__(self, key) -> bool:
        return self._find(key) is not None

    def __len__(self) -> int:
        return len(self._s)

    def __iter__(self) -> Iterator[str]:
        for b in self._s:
            yield b.decode()


class PairKeys:
    """(u, v) with u < v -> the group key behind that group-layer edge, by binary search."""

    def __init__(self, key: np.ndarray, val: np.ndarray, names: np.ndarray):
        self.key, self.val, self.names = key, val, names

    @classmethod
    def from_dict(cls, d: Mapping[tuple[int, int], str]) -> PairKeys:
        if isinstance(d, PairKeys):
            return d
        names = sorted(set(d.values()))
        code = {k: i for i, k in enumerate(names)}
        key = np.fromiter(((int(u) << 32) | int(v) for u, v in d), dtype=np.int64, count=len(d))
        val = np.fromiter((code[k] for k in d.values()), dtype=np.int32, count=len(d))
        order = np.argsort(key, kind="stable")
        return cls(key[order], val[order], _encode(names))

    def get(self, pair, default=None):
        u, v = pair
        k = (int(u) << 32) | int(v)
        i = int(np.searchsorted(self.key, k))
        if i < len(self.key) and int(self.key[i]) == k:
            return self.names[int(self.val[i])].decode()
        return default

    def items(self):
        for k, v in zip(self.key, self.val, strict=True):
            yield (int(k) >> 32, int(k) & 0xFFFFFFFF), self.names[int(v)].decode()

    def __len__(self) -> int:
        return len(self.key)


def _encode(strings: Sequence[str]) -> np.ndarray:
    return encode_keys(list(strings))


# -- writing --------------------------------------------------------------------------------------

def _save_csr(d: Path, name: str, m: sp.csr_matrix) -> None:
    np.save(d / f"{name}.indptr.npy", m.indptr)
    np.save(d / f"{name}.indices.npy", m.indices)
    np.save(d / f"{name}.data.npy", m.data)


def _link(src: Path | None, dst: Path, names: Sequence[str]) -> bool:
    """Hard-link the files `names` of version folder `src` into `dst` (all or none)."""
    if src is None:
        return False
    try:
        for name in names:
            os.link(src / name, dst / name)
        return True
    except OSError:
        for name in names:
            (dst / name).unlink(missing_ok=True)
        return False


def write(root: Path, graph: Graph, priors: np.ndarray, mark: Mark, store_id: str, how: str,
          seconds: float, replace: bool = False, reuse: Path | None = None, shared: set[str] | None = None) -> Path:
    """Write `graph` (stored form) and its priors as version `mark.version` and make it CURRENT. With
    `reuse`, the version `graph` was spliced from (graph.splice), and `shared` the parts the splice left
    as they were (splice.shared_parts; default: ids, group layers and keys): their files are hard-linked
    instead of written again."""
    if reuse is not None and shared is None:
        shared = {"ids", *(f"layer:{k}" for k in LAYERS), *(f"keys:{k}" for k in graph.group_keys)}
    shared = shared or set()

    def link(part: str, names: list[str]) -> bool:
        return part in shared and _link(reuse, tmp, names)

    root.mkdir(parents=True, exist_ok=True)
    final = root / mark.version
    tmp = root / f".tmp-{mark.version}-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    try:
        if link("ids", ["ids_sorted.npy", "ids_pos.npy", "ids_rank.npy"]):
            pass
        elif isinstance(graph.ids, SnapshotIds) and graph.ids._rank is not None and isinstance(graph.index, SnapshotIndex):
            np.save(tmp / "ids_sorted.npy", graph.ids._s)  # held sorted already (a splice that added accounts)
            np.save(tmp / "ids_pos.npy", graph.index._pos)
            np.save(tmp / "ids_rank.npy", graph.ids._rank)
        else:
            ids = graph.ids.array() if isinstance(graph.ids, SnapshotIds) else _encode(list(graph.ids))
            order = np.argsort(ids, kind="stable")
            it = np.int32 if len(ids) < 2**31 else np.int64
            rank = np.empty(len(ids), dtype=it)
            rank[order] = np.arange(len(ids), dtype=it)
            np.save(tmp / "ids_sorted.npy", ids[order])
            del ids
            np.save(tmp / "ids_pos.npy", order.astype(it))
            np.save(tmp / "ids_rank.npy", rank)
            del order, rank
        empty = [name for name in LAYERS if name != "interaction" and graph.layer_nnz(name) == 0]
        fused, deg = graph.prepared[_full_key()]
        compact = isinstance(graph, layout.CompactGraph) and graph.inter.fused is fused
        kinds_shared = False
        if compact:  # the interaction layer is the fused entries with kind bits, plus a side table
            fi = graph.inter
            np.save(tmp / "inter.codes.npy", fi.codes.packed)
            np.save(tmp / "inter.palette.npy", fi.codes.palette)
            np.save(tmp / "inter.side_pos.npy", fi.side_pos)
            np.save(tmp / "inter.side_val.npy", fi.side_val)
            for name in LAYERS:
                if name != "interaction" and name not in empty \
                        and not link(f"layer:{name}", [f"{name}.{x}.npy" for x in ("indptr", "indices", "data")]):
                    _save_csr(tmp, name, graph.layers[name])
        else:
            for name in LAYERS:
                if name not in empty:
                    _save_csr(tmp, name, graph.layers[name])
            inter, kinds = graph.layers["interaction"], graph.kinds
            kinds_shared = kinds.indices is inter.indices or bool(
                np.array_equal(kinds.indptr, inter.indptr) and np.array_equal(kinds.indices, inter.indices))
            if kinds_shared:  # the same pattern (a tie has a kind): only the bits are stored
                np.save(tmp / "kinds.data.npy", kinds.data)
            else:
                _save_csr(tmp, "kinds", kinds)
        _save_csr(tmp, "fused", fused)
        made = None if graph.made_to is None else "fused" if isinstance(graph.made_to, layout.MadeTo) else "csr"
        if made == "csr":  # who made each tie, when it is not a bit of the fused entries' codes
            _save_csr(tmp, "made_to", graph.made_to)
        if graph.declined is not None:
            _save_csr(tmp, "declined", graph.declined)
        np.save(tmp / "deg.npy", deg)
        sparse = priors if isinstance(priors, SparsePriors) else SparsePriors.of(priors)
        np.save(tmp / "priors.idx.npy", sparse.idx)
        np.save(tmp / "priors.val.npy", sparse.val)
        for name, d in graph.group_keys.items():
            if link(f"keys:{name}", [f"gk_{name}.{x}.npy" for x in ("key", "val", "names")]):
                continue
            pk = d if isinstance(d, PairKeys) else PairKeys.from_dict(d)
            np.save(tmp / f"gk_{name}.key.npy", pk.key)
            np.save(tmp / f"gk_{name}.val.npy", pk.val)
            np.save(tmp / f"gk_{name}.names.npy", pk.names)
        for name, m in graph.members.items():
            parts = m.arrays()
            if link(f"members:{name}", [f"gm_{name}.{x}.npy" for x in parts]):
                continue
            for x, arr in parts.items():
                np.save(tmp / f"gm_{name}.{x}.npy", arr)
        meta = {"format": FORMAT, "members": sorted(graph.members), "store": store_id, **mark.as_dict(), "accounts": graph.n,
                "edges": graph.edges(), "fused_edges": int(fused.nnz // 2), "layers": list(LAYERS),
                "group_keys": sorted(graph.group_keys), "kinds_shared": kinds_shared, "compact": compact,
                "interaction_nnz": graph.layer_nnz("interaction"), "made_to": made, "declined": graph.declined is not None, "empty": empty,
                "inter_entries": int(fused.nnz) if compact else 0, "how": how, "seconds": round(seconds, 3),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        if final.exists() and not replace and _meta_of(final) != (FORMAT, store_id):
            replace = True  # the same version name written by an older Netwarden or for another store: not kept
        if final.exists() and not replace:  # another process wrote the same version: same content, keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            if final.exists():  # a rebuild asked for: the old files go (a process mapping them keeps its pages)
                old = root / f".old-{mark.version}-{os.getpid()}-{time.monotonic_ns()}"
                os.rename(final, old)
                shutil.rmtree(old, ignore_errors=True)
            os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    cur_tmp = root / f".CURRENT-{os.getpid()}"
    cur_tmp.write_text(mark.version + "\n")
    os.replace(cur_tmp, root / "CURRENT")
    _prune(root, mark.version)
    return final


def _meta_of(version: Path) -> tuple | None:
    try:
        meta = json.loads((version / "meta.json").read_text())
        return meta.get("format"), meta.get("store")
    except (OSError, ValueError, AttributeError):
        return None


def _prune(root: Path, current: str) -> None:
    versions = sorted((p for p in root.iterdir() if p.is_dir() and p.name.startswith("v")), key=lambda p: p.name)
    keep = {current, *[p.name for p in versions[-KEEP:]]}
    for p in versions:
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def _locked(root: Path):
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# -- reading --------------------------------------------------------------------------------------

@dataclass
class Snapshot:
    path: Path
    meta: dict
    graph: Graph
    priors: np.ndarray

    @property
    def mark(self) -> Mark:
        return Mark(int(self.meta["last_event_seq"]), int(self.meta["signals"]), int(self.meta["signal_max_id"]))


def current_version(root: Path) -> str | None:
    try:
        return (root / "CURRENT").read_text().strip() or None
    except OSError:
        return None


def read_meta(root: Path) -> dict | None:
    v = current_version(root)
    if v is None:
        return None
    try:
        return json.loads((root / v / "meta.json").read_text())
    except (OSError, ValueError):
        return None


def _load_csr(d: Path, name: str, n: int, pattern: str | None = None, lite: bool = False,
              empty: bool = False) -> sp.csr_matrix:
    if empty:  # not written: no ties (an all-zero row pointer, not resident until read)
        if lite:
            return light.CSR(np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(n + 1, np.int32), (n, n))
        return sp.csr_matrix((n, n), dtype=np.float32)

    def arr(part, name=name):
        return np.asarray(np.load(d / f"{name}.{part}.npy", mmap_mode="r"))
    p = pattern or name
    if lite:
        return light.CSR(arr("data"), arr("indices", p), arr("indptr", p), (n, n))
    m = sp.csr_matrix((arr("data"), arr("indices", p), arr("indptr", p)), shape=(n, n), copy=False)
    m.has_sorted_indices = True
    return m


def open_current(root: Path, store_id: str | None = None, lite: bool = False,
                 version: str | None = None) -> Snapshot | None:
    """The CURRENT version (or the one named `version`), memory-mapped; None when there is none, it is of
    another format, or (given `store_id`) of another store. With `lite`, a compact version's matrices are
    graph/csr.py's CSR over the mapped arrays, not scipy's (for one expansion of all layers,
    expand.load_graph); None for a version that is not compact."""
    v = version or current_version(root)
    if v is None:
        return None
    d = root / v
    try:
        meta = json.loads((d / "meta.json").read_text())
        if meta.get("format") != FORMAT or (store_id is not None and meta.get("store") != store_id):
            return None
        n = int(meta["accounts"])

        def arr(name):
            return np.asarray(np.load(d / f"{name}.npy", mmap_mode="r"))

        keys = {name: PairKeys(arr(f"gk_{name}.key"), arr(f"gk_{name}.val"), arr(f"gk_{name}.names"))
                for name in meta["group_keys"]}
        if lite and not meta.get("compact"):
            return None
        fused = _load_csr(d, "fused", n, lite=lite)
        sorted_ids = arr("ids_sorted")
        ids, index = SnapshotIds(sorted_ids, arr("ids_rank")), SnapshotIndex(sorted_ids, arr("ids_pos"))
        empty = set(meta["empty"])
        if meta.get("compact"):
            codes = layout.Codes(arr("inter.codes"), arr("inter.palette"), int(meta["inter_entries"]))
            fi = layout.FusedInteraction(fused, codes, arr("inter.side_pos"), arr("inter.side_val"),
                                         int(meta["interaction_nnz"]))
            groups = {name: _load_csr(d, name, n, lite=lite, empty=name in empty)
                      for name in meta["layers"] if name != "interaction"}
            g = layout.compact_of(Graph(ids=ids, index=index, layers={}, kinds=None, group_keys=keys,
                                        last_event_seq=int(meta["last_event_seq"])), groups, fi, tuple(meta["layers"]))
        else:
            layers = {name: _load_csr(d, name, n, empty=name in empty) for name in meta["layers"]}
            kinds = _load_csr(d, "kinds", n, "interaction" if meta.get("kinds_shared") else None)
            g = Graph(ids=ids, index=index, layers=layers, kinds=kinds, group_keys=keys,
                      last_event_seq=int(meta["last_event_seq"]))
        if meta.get("made_to") == "fused":
            g.made_to = layout.MadeTo(g.inter)
        elif meta.get("made_to"):
            g.made_to = _load_csr(d, "made_to", n, lite=lite)
        if meta.get("declined"):
            g.declined = _load_csr(d, "declined", n, lite=lite)
        g.members = {name: Members(**{x: arr(f"gm_{name}.{x}") for x in MEMBER_PARTS})
                     for name in meta.get("members", [])}
        g.prepared[_full_key()] = (fused, arr("deg"))
        return Snapshot(d, meta, g, SparsePriors(n, arr("priors.idx"), arr("priors.val")))
    except (OSError, ValueError, KeyError):
        return None


def materialize(g: Graph) -> Graph:
    """An in-memory graph (list ids, dict index, dict group keys) that `Graph.refresh` can grow; the
    matrices are shared (refresh replaces them, never writes into them)."""
    ids = list(g.ids)
    keys = {name: dict(pk.items()) if isinstance(pk, PairKeys) else dict(pk) for name, pk in g.group_keys.items()}
    return Graph(ids=ids, index={a: i for i, a in enumerate(ids)}, layers={k: g.layers[k] for k in g.layers},
                 kinds=g.kinds, group_keys=keys, last_event_seq=g.last_event_seq,
                 made_to=g.made_to.matrix() if isinstance(g.made_to, layout.MadeTo) else g.made_to,
                 declined=g.declined, members=dict(g.members))


# -- keeping it current ---------------------------------------------------------------------------

def _priors(store, graph: Graph) -> np.ndarray:
    from .expand import signal_priors

    return signal_priors(store, graph)[0]


def fresh_graph(store, base: Graph | None, base_mark: Mark | None, mark: Mark, full: bool = False) -> tuple[Graph, np.ndarray, str]:
    """The graph at `mark` in stored form, with its priors, and how it was made: `base` (at
    `base_mark`) with the events and signals since spliced into the rows and groups they touch
    (graph.splice) or refreshed, or a rebuild when there is no base, `full` is
    set, or more than REBUILD_AFTER events arrived since."""
    if base is not None and not full and base_mark is not None and mark.seq - base_mark.seq <= REBUILD_AFTER:
        g = splice.refresh(store, base, base_mark, mark)
        if g is not None:
            return g, _priors(store, g), f"refresh of {base_mark.version} (rows spliced)"
        g = materialize(base)
        groups = True if (mark.signals, mark.signal_max) != (base_mark.signals, base_mark.signal_max) else None
        g.refresh(store, groups=groups)
        how = f"refresh of {base_mark.version}"
    else:
        g = _build.build_graph(store)
        how = "build"
    g = stored_form(g)
    return g, _priors(store, g), how


def ensure(store, root: Path, mark: Mark | None = None, full: bool = False,
           cached: tuple[Graph, Mark] | None = None) -> tuple[Graph, np.ndarray, Mark, str]:
    """The graph at the store's current mark from the snapshot at `root`, bringing the snapshot up to
    date first when it is stale or missing (under a lock, so two processes do not both build).
    Returns (graph, priors, mark, how: 'snapshot' when it was current, else how the new version was
    made). A snapshot that cannot be written (a read-only folder) leaves the graph in memory only."""
    mark = mark or store_mark(store)
    sid = store_identity(store)
    if not full:
        snap = open_current(root, sid)
        if snap is not None and snap.mark == mark:
            return snap.graph, snap.priors, mark, "snapshot"
    try:
        lock = _locked(root)
        lock.__enter__()
    except OSError:
        lock = None
    try:
        snap = open_current(root, sid)
        if not full and snap is not None and snap.mark == store_mark(store):  # another process just wrote it
            return snap.graph, snap.priors, snap.mark, "snapshot"
        mark = store_mark(store)
        if cached is not None and (snap is None or cached[1].seq >= snap.mark.seq):
            base, base_mark = cached
        elif snap is not None:
            base, base_mark = snap.graph, snap.mark
        else:
            base = base_mark = None
        t0 = time.perf_counter()
        g, pri, how = fresh_graph(store, base, base_mark, mark, full)
        old = read_meta(root) if snap is None else None
        if old is not None and old.get("format") != FORMAT:
            how += f" (the snapshot on disk was format {old.get('format')}, this version reads format {FORMAT})"
        # the refresh may have read events newer than `mark`; the version names what the graph covers
        mark = Mark(g.last_event_seq, mark.signals, mark.signal_max)
        # a splice leaves the ids and group layers as the snapshot it started from has them: linked, not written
        shared = splice.shared_parts(g, base) if snap is not None and base is snap.graph else set()
        reuse = snap.path if shared else None
        if lock is not None:
            try:
                write(root, g, pri, mark, sid, how, time.perf_counter() - t0, replace=full, reuse=reuse,
                      shared=shared)
            except OSError:
                pass
        return g, pri, mark, how
    finally:
        if lock is not None:
            lock.__exit__(None, None, None)


def status(store, root: Path | None) -> dict:
    """What the snapshot holds against what the store holds."""
    mark = store_mark(store)
    out: dict = {"path": str(root) if root else None, "store": mark.as_dict()}
    if root is None:
        out.update(state="disabled", reason="no snapshot folder: an in-memory store, another database without "
                   "NETWARDEN_GRAPH_DIR, or NETWARDEN_GRAPH_DIR=off")
        return out
    meta = read_meta(root)
    if meta is None:
        out.update(state="missing")
        return out
    snap_mark = Mark(int(meta["last_event_seq"]), int(meta["signals"]), int(meta["signal_max_id"]))
    d = root / current_version(root)
    size = sum(p.stat().st_size for p in d.iterdir() if p.is_file())
    fused = sum((d / f"fused.{x}.npy").stat().st_size for x in ("indptr", "indices", "data"))
    if meta.get("format") != FORMAT:
        state = "old format"
    elif meta.get("store") != store_identity(store):
        state = "another store"
    elif snap_mark == mark:
        state = "current"
    else:
        state = "stale"
    edges = max(int(meta["edges"]), 1)
    out.update(state=state, version=d.name, snapshot=meta, format=FORMAT, events_behind=max(0, mark.seq - snap_mark.seq),
               signals_changed=(snap_mark.signals, snap_mark.signal_max) != (mark.signals, mark.signal_max),
               bytes=size, mib_per_million_edges=round(size / 2**20 / (edges / 1e6), 2),
               fused_mib_per_million_edges=round(fused / 2**20 / (max(int(meta["fused_edges"]), 1) / 1e6), 2))
    return out
