"""`netwarden world generate`: a synthetic platform with planted networks and their truth."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import UserError
from .common import JSON_OPT, emit, progress

world_app = typer.Typer(help="Synthetic worlds: an ordinary platform with planted networks and their truth.", no_args_is_help=True)


def _size(text: str) -> tuple[int, int]:
    try:
        lo, _, hi = text.partition(":")
        return (int(lo), int(hi or lo))
    except ValueError as e:
        raise UserError(f"--network-size {text!r} is not MIN:MAX; use two whole numbers, e.g. 50:200.") from e


def _camouflage(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as e:
        raise UserError(f"--camouflage {text!r} is not a fraction or a comma list of fractions; use e.g. 0.3 or 0.1,0.3,0.7.") from e


@world_app.command("generate")
def generate_cmd(
    out: Path = typer.Option(..., "--out", help="Directory to write events.jsonl, media/, bank.csv and truth.json into."),
    accounts: int = typer.Option(10_000, "--accounts", help="Number of accounts (at least 200)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed and options give a byte-identical world."),
    networks: int | None = typer.Option(None, "--networks", help="Planted networks (default: 1 per 25k accounts, 1-20)."),
    network_size: str = typer.Option("50:200", "--network-size", help="MIN:MAX members per network."),
    camouflage: str = typer.Option("0.3", "--camouflage", help="Fraction of members' edges to non-members; a comma list is cycled over networks."),
    protected: float = typer.Option(0.2, "--protected", help="Fraction of members that are protected accounts."),
    shared_handle: float = typer.Option(0.3, "--shared-handle", help="Fraction of members that show the network's shared off-platform handle."),
    reregistered: float = typer.Option(0.1, "--reregistered", help="Fraction of members suspended and re-registered under a new handle."),
    no_media: bool = typer.Option(False, "--no-media", help="Write no image files; posts carry no media and the bank is empty."),
    hiding: str = typer.Option("none", "--hiding", help="none: the original worlds; hard: every way of hiding at once "
                               "(camouflage styles, contact bios, unwitting followers, low-tie members, re-registrations "
                               "carrying 1-3 traits, signups during the window, rich profiles; docs/worlds.md)."),
    camouflage_style: str = typer.Option(None, "--camouflage-style", help="Where camouflage goes: mixed, random, popular "
                                         "or community; a comma list is cycled over networks (default: mixed, or all three "
                                         "with --hiding hard)."),
    reports: bool = typer.Option(False, "--reports", help="Add user reports: true ones on members, trusted flaggers, "
                                 "false and malicious ones on ordinary accounts (truth.json says which; docs/reports.md)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Generate a world as native events with a separate truth file."""
    from ..world import WorldParams, generate_world

    if accounts < 1:
        raise UserError(f"--accounts is {accounts}; give a positive number of accounts, e.g. 10000.")
    if networks is not None and networks < 0:
        raise UserError(f"--networks is {networks}; give 0 or more networks.")
    from ..world.params import HARD

    if hiding not in ("none", "hard"):
        raise UserError(f"--hiding {hiding!r} is unknown; use none or hard.")
    more = dict(HARD) if hiding == "hard" else {}
    if camouflage_style is not None:
        more["camouflage_style"] = tuple(x.strip() for x in camouflage_style.split(",") if x.strip())
    params = WorldParams(
        accounts=accounts, seed=seed, networks=networks, network_size=_size(network_size),
        camouflage=_camouflage(camouflage), protected_fraction=protected, shared_handle_fraction=shared_handle,
        reregistered_fraction=reregistered, media=not no_media, **more, user_reports=reports,
    )
    with progress(not as_json) as bar:
        tasks: dict[str, int] = {}

        def on_progress(phase: str, advance: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total or None)
            bar.update(tasks[phase], advance=advance)

        summary = generate_world(out, params, on_progress)
    nets = ", ".join(f"{n['id']} ({n['members']} members, camouflage {n['camouflage']} {n['style']})" for n in summary["networks"])
    emit(summary, as_json, text=(
        f"Wrote {summary['events']:,} events for {summary['accounts']:,} accounts to {out}/events.jsonl "
        f"in {summary['seconds']}s.\nPlanted: {nets or 'no networks'}; {summary['reregistrations']} re-registrations, "
        f"{summary['decoys']} decoys.\nTruth: {out}/truth.json  Bank: {out}/bank.csv ({summary['bank_rows']} rows)"
    ))


def register(app: typer.Typer) -> None:
    app.add_typer(world_app, name="world")
