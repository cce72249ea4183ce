"""Ids of accounts, posts and media. Post ids are scrambled so their order says nothing."""

from __future__ import annotations

_MASK = (1 << 40) - 1
_MUL = 0x9E3779B97F  # odd: multiplication mod 2**40 is a bijection, so ids never collide


def account_id(i: int) -> str:
    return f"a{i}"


def post_id(i: int) -> str:
    return f"p{(i * _MUL) & _MASK:010x}"
