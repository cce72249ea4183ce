"""Refuse operator regexes that are invalid, unsupported, or could backtrack catastrophically.

The scanner runs regexes in Hyperscan (an automaton, which never backtracks), but lists are
also used by other tools and by people, so a pattern with the classic exponential shapes is
refused at load, with its line:

* a repeat inside an unbounded repeat, e.g. ``(a+)+``, ``(\\w*)*``, ``(a|b+)*``;
* an unbounded repeat of an alternation whose branches can start with the same character,
  e.g. ``(a|ab)*``, ``(\\w|x)+``;
* back-references and look-around (not supported by the automaton either);
* bounded repeats above 1000 and patterns longer than 500 characters.
"""

from __future__ import annotations

import re
import re._constants as C  # noqa: N812
import re._parser as P  # noqa: N812

from ..errors import UserError

MAX_PATTERN = 500
MAX_REPEAT = 1000
_ANY = object()


def _first_chars(items) -> set | object:
    """Rough set of characters a sub-pattern can start with (_ANY when it could be many)."""
    for op, av in items:
        if op is C.LITERAL:
            return {av}
        if op is C.NOT_LITERAL or op is C.ANY or op is C.CATEGORY:
            return _ANY
        if op is C.IN:
            out = set()
            for iop, iav in av:
                if iop is C.LITERAL:
                    out.add(iav)
                elif iop is C.RANGE:
                    if iav[1] - iav[0] > 256:
                        return _ANY
                    out.update(range(iav[0], iav[1] + 1))
                else:
                    return _ANY
            return out
        if op is C.SUBPATTERN:
            return _first_chars(av[-1])
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, _hi, sub = av
            first = _first_chars(sub)
            if lo == 0:
                return _ANY  # may be skipped: be conservative
            return first
        if op is C.BRANCH:
            out = set()
            for b in av[1]:
                f = _first_chars(b)
                if f is _ANY:
                    return _ANY
                out |= f
            return out
        if op is C.AT:
            continue
        return _ANY
    return set()


def _has_repeat(items) -> bool:
    for op, av in items:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            if av[1] > 1:
                return True
            if _has_repeat(av[2]):
                return True
        elif op is C.SUBPATTERN and _has_repeat(av[-1]):
            return True
        elif op is C.BRANCH and any(_has_repeat(b) for b in av[1]):
            return True
    return False


def _overlapping_branch(items) -> bool:
    for op, av in items:
        if op is C.BRANCH:
            firsts = [_first_chars(b) for b in av[1]]
            for i, a in enumerate(firsts):
                for b in firsts[i + 1 :]:
                    if a is _ANY or b is _ANY or (a & b):
                        return True
        elif op is C.SUBPATTERN and _overlapping_branch(av[-1]):
            return True
    return False


def _walk(items, where: str, pattern: str) -> None:
    for op, av in items:
        if op in (C.GROUPREF, C.GROUPREF_EXISTS):
            raise UserError(f"{where}: regex {pattern!r} uses a back-reference, which is not supported; rewrite it without one.")
        if op in (C.ASSERT, C.ASSERT_NOT):
            raise UserError(f"{where}: regex {pattern!r} uses look-around, which is not supported; rewrite it without (?=, (?!, (?<= or (?<!.")
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, sub = av
            if (hi is not C.MAXREPEAT and hi > MAX_REPEAT) or lo > MAX_REPEAT:
                raise UserError(f"{where}: regex {pattern!r} has a repeat count above {MAX_REPEAT}; use a smaller bound.")
            if hi is C.MAXREPEAT or hi > 16:
                if _has_repeat(sub):
                    raise UserError(
                        f"{where}: regex {pattern!r} nests a repeat inside an unbounded repeat, which can backtrack "
                        "catastrophically; remove the inner or the outer quantifier."
                    )
                if _overlapping_branch(sub):
                    raise UserError(
                        f"{where}: regex {pattern!r} repeats an alternation whose branches can match the same "
                        "text, which can backtrack catastrophically; make the branches start differently."
                    )
            _walk(sub, where, pattern)
        elif op is C.SUBPATTERN:
            _walk(av[-1], where, pattern)
        elif op is C.BRANCH:
            for b in av[1]:
                _walk(b, where, pattern)


def check_regex(pattern: str, where: str) -> None:
    """Raise UserError (naming `where`) when `pattern` is invalid or unsafe."""
    if len(pattern) > MAX_PATTERN:
        raise UserError(f"{where}: regex is longer than {MAX_PATTERN} characters; split it into several entries.")
    try:
        re.compile(pattern)
        parsed = P.parse(pattern)
    except re.error as e:
        raise UserError(f"{where}: invalid regex {pattern!r} ({e.msg} at position {e.pos}); fix the pattern.") from None
    except RecursionError:
        raise UserError(f"{where}: regex {pattern!r} is nested too deeply; simplify it.") from None
    _walk(list(parsed), where, pattern)
