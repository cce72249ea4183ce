"""The knobs of a synthetic world, with their defaults and checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import UserError

CAMOUFLAGE_STYLES = ("mixed", "random", "popular", "community")
# What a re-registration can carry over from the suspended account (rereg_carry "traits").
REREG_TRAITS = ("name", "bio", "handle_family", "contact", "avatar", "follows")
# `--hiding hard`: every way of hiding at once.
HARD = {"camouflage_style": ("random", "popular", "community"), "background_contact_fraction": 0.1,
        "unwitting_followers": 15, "low_tie_fraction": 0.2, "rereg_carry": "traits", "signup_fraction": 0.1,
        "rich_profiles": True}


@dataclass(frozen=True, slots=True)
class WorldParams:
    """Everything that decides a world; the same params and seed give a byte-identical world."""

    accounts: int = 10_000
    seed: int = 0
    networks: int | None = None  # None: one per 25k accounts, at least 1, at most 20
    network_size: tuple[int, int] = (50, 200)  # members per network, re-registered accounts included
    camouflage: tuple[float, ...] = (0.3,)  # cycled over networks: fraction of members' edges to non-members
    protected_fraction: float = 0.2  # of network members
    shared_handle_fraction: float = 0.3  # of network members that show the network's shared handle
    reregistered_fraction: float = 0.1  # of network members suspended and re-registered
    role_mix: tuple[float, float, float] = (0.3, 0.35, 0.35)  # poster, commenter, silent
    media: bool = True
    days: int = 180  # length of the observed activity window
    start: str = "2025-09-01T00:00:00Z"
    mean_follows: float = 12.0  # background out-degree mean
    mean_posts: float = 3.0  # background posts per account
    mean_likes: float = 6.0  # background likes per account
    background_protected: float = 0.05
    background_suspended: float = 0.004
    decoy_fraction: float = 0.0005  # background accounts that use a signal hashtag innocently
    benign_pool: int = 240  # distinct benign post images
    avatar_pool: int = 160  # distinct generic avatars
    known_per_network: int = 12  # "known" items per network
    # How networks hide (docs/worlds.md, "Harder worlds"); the defaults are the original worlds.
    camouflage_style: tuple[str, ...] = ("mixed",)  # cycled over networks: mixed | random | popular | community
    background_contact_fraction: float = 0.03  # ordinary accounts with an off-platform contact in their bio
    unwitting_followers: int = 0  # per network: ordinary accounts that each follow several members unknowingly
    low_tie_fraction: float = 0.0  # of a network's members: only 2-3 ties inside it
    rereg_carry: str = "classic"  # classic: handle/avatar/follows; traits: 1-3 of REREG_TRAITS
    signup_fraction: float = 0.0  # of ordinary accounts: created during the observed window, not before it
    rich_profiles: bool = False  # display names and bios drawn from a large space (a carried name means something)
    user_reports: bool = False  # user reports (world/reports.py): true, trusted, false and malicious
    extra: dict[str, Any] = field(default_factory=dict)

    def n_networks(self) -> int:
        if self.networks is not None:
            return self.networks
        return max(1, min(20, self.accounts // 25_000 + 1))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["network_size"] = list(self.network_size)
        d["camouflage"] = list(self.camouflage)
        d["role_mix"] = list(self.role_mix)
        d["camouflage_style"] = list(self.camouflage_style)
        d["networks"] = self.n_networks()
        return d

    def check(self) -> None:
        """Raise UserError naming the first bad option."""
        if self.accounts < 200:
            raise UserError(f"--accounts is {self.accounts}; use at least 200.")
        lo, hi = self.network_size
        if lo < 5 or hi < lo:
            raise UserError(f"--network-size {lo}:{hi} is invalid; use MIN:MAX with 5 <= MIN <= MAX.")
        if self.n_networks() < 0:
            raise UserError("--networks must be 0 or more.")
        budget = self.n_networks() * hi
        if budget > 0.3 * self.accounts:
            raise UserError(
                f"--networks {self.n_networks()} of up to {hi} members do not fit in {self.accounts} accounts; "
                "use more --accounts, fewer --networks or a smaller --network-size."
            )
        for c in self.camouflage:
            if not 0.0 <= c < 1.0:
                raise UserError(f"--camouflage {c} is out of range; use a fraction from 0 to below 1, e.g. 0.3.")
        if not self.camouflage:
            raise UserError("--camouflage is empty; give at least one fraction, e.g. 0.3.")
        for name in ("protected_fraction", "shared_handle_fraction", "reregistered_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise UserError(f"{name} is {v}; use a fraction from 0 to 1.")
        for st in self.camouflage_style:
            if st not in CAMOUFLAGE_STYLES:
                raise UserError(f"--camouflage-style {st!r} is unknown; use {', '.join(CAMOUFLAGE_STYLES)} (a comma list is cycled).")
        if not self.camouflage_style:
            raise UserError("--camouflage-style is empty; give at least one of " + ", ".join(CAMOUFLAGE_STYLES) + ".")
        if self.rereg_carry not in ("classic", "traits"):
            raise UserError(f"rereg_carry is {self.rereg_carry!r}; use classic or traits.")
        for name in ("background_contact_fraction", "low_tie_fraction", "signup_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise UserError(f"{name} is {v}; use a fraction from 0 to 1.")
        if self.unwitting_followers < 0:
            raise UserError(f"unwitting_followers is {self.unwitting_followers}; use 0 or more.")
        if abs(sum(self.role_mix) - 1.0) > 1e-6 or min(self.role_mix) < 0:
            raise UserError("role_mix must be three non-negative fractions (poster, commenter, silent) summing to 1.")
        if self.days < 7:
            raise UserError(f"days is {self.days}; use at least 7.")
