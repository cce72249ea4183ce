"""Synthetic platform generator: an ordinary platform with planted networks, and the truth about them.

    from netwarden.world import generate
    summary = generate("worlds/w1", accounts=10_000, seed=7, networks=2, camouflage=0.3)

writes DIR/events.jsonl (native events, docs/events.md), DIR/media/ (abstract images), DIR/bank.csv
(the demo "known" bank) and DIR/truth.json (what was planted). docs/worlds.md describes all of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .generate import Progress, generate_world
from .params import WorldParams

__all__ = ["WorldParams", "generate", "generate_world"]


def generate(
    out_dir: str | Path,
    accounts: int = 10_000,
    seed: int = 0,
    networks: int | None = None,
    network_size: tuple[int, int] = (50, 200),
    camouflage: float | Sequence[float] = 0.3,
    protected_fraction: float = 0.2,
    shared_handle_fraction: float = 0.3,
    reregistered_fraction: float = 0.1,
    media: bool = True,
    progress: Progress | None = None,
    **more: Any,
) -> dict[str, Any]:
    """Generate a world into out_dir and return a summary; `more` sets any other WorldParams field."""
    cam = (float(camouflage),) if isinstance(camouflage, int | float) else tuple(float(c) for c in camouflage)
    params = WorldParams(
        accounts=accounts, seed=seed, networks=networks, network_size=tuple(network_size),  # type: ignore[arg-type]
        camouflage=cam, protected_fraction=protected_fraction, shared_handle_fraction=shared_handle_fraction,
        reregistered_fraction=reregistered_fraction, media=media, **more,
    )
    return generate_world(out_dir, params, progress)
