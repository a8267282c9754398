"""Regexes anchored by a lookbehind, searched only where a match can start.

Python's ``re`` skips quickly through text only when a pattern starts with a literal or a
character class; a pattern that starts with a lookbehind (``(?<!\\w)``: a word starts here) is
tried at every position of the text, and each try costs about as much as a short match however
soon it fails. ``StartCharRegex`` searches instead with a guard that starts with the class of
characters a match can start with and then tries the whole pattern, lookbehind included, in a
lookaround, so the regex engine skips every character outside that class. Each place the guard
accepts is matched again by the plain pattern, which gives the very match ``re.finditer`` gives there.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from re import _constants as sre  # the parsed form of a pattern: no public API exposes it
from re import _parser as sre_parse

from notenlp import regex_cache

_CATEGORY_CLASSES = {
    sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D", sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S", sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W",
}  # the guard is compiled with the pattern's flags, so under ASCII these mean what they meant there
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)


class _Unsupported(Exception):
    """A construct whose first characters are not worked out; the pattern is searched unguarded."""


class StartCharRegex:
    """``re.compile(pattern, flags)`` (``self.regex``) with a faster ``finditer`` that yields the same matches."""

    def __init__(self, pattern: str, flags: int = 0):
        self.regex = regex_cache.compile(pattern, flags)
        first = first_char_class(pattern, flags)
        # The guard consumes one possible first character; its lookbehind steps back over it to try the
        # whole pattern from there (a lookahead inside a lookbehind is not bound by the lookbehind's
        # width). Case-sensitive, so the engine skips on the class even under IGNORECASE.
        self.guard = None if first is None else regex_cache.compile(rf"(?-i:{first})(?<=(?=(?:{pattern}))(?s:.))", flags)

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        if self.guard is None:
            yield from self.regex.finditer(text, pos, endpos)
            return
        resume = pos  # the guard also accepts starts inside a match; re.finditer resumes after it
        for candidate in self.guard.finditer(text, pos, endpos):
            start = candidate.start()
            if start >= resume:
                match = self.regex.match(text, start, endpos)
                resume = match.end()
                yield match


def start_lookahead(source: str, flags: int = 0) -> str:
    """A look-ahead for the characters a match of ``source`` can start with ('' when any may), to put
    right after a pattern's opening look-behind: the engine tries that look-behind at every position,
    and the look-ahead then fails at once where no match can start, before any alternative is entered."""
    first = first_char_class(source, flags)
    return f"(?={first})" if first else ""


def first_char_class(source: str, flags: int = 0) -> str | None:
    """A character class holding every character a match of ``source`` can start with; None when
    ``source`` can match the empty string or uses a construct this does not follow (then any
    character may start a match). Lookarounds and anchors are skipped: they only narrow the class."""
    try:
        parsed = sre_parse.parse(source, flags)
        items: set[str] = set()
        if _add_first_chars(parsed, parsed.state.flags, items):
            return None
    except _Unsupported:
        return None
    return "[" + "".join(sorted(items)) + "]"


def _add_first_chars(sequence, flags: int, items: set[str]) -> bool:
    """Adds to ``items`` the class items a match of ``sequence`` can start with; True if it can be empty."""
    for op, av in sequence:
        if op is sre.LITERAL or op is sre.IN:
            items.update(_class_items([(op, av)] if op is sre.LITERAL else av, flags))
            return False
        if op in _ZERO_WIDTH:
            continue
        if op is sre.SUBPATTERN:
            _, add_flags, del_flags, inner = av
            if not _add_first_chars(inner, (flags | add_flags) & ~del_flags, items):
                return False
        elif op is sre.ATOMIC_GROUP:
            if not _add_first_chars(av, flags, items):
                return False
        elif op is sre.BRANCH:
            empties = [_add_first_chars(alternative, flags, items) for alternative in av[1]]
            if not any(empties):
                return False
        elif op in _REPEATS:
            low, _, inner = av
            if not _add_first_chars(inner, flags, items) and low > 0:
                return False
        else:
            raise _Unsupported
    return True


def _class_items(members, flags: int) -> list[str]:
    items = []
    for op, av in members:
        if op in (sre.LITERAL, sre.RANGE) and flags & re.IGNORECASE:
            raise _Unsupported  # case folding reaches beyond the written letters ("k" matches KELVIN SIGN)
        if op is sre.LITERAL:
            items.append(re.escape(chr(av)))
        elif op is sre.RANGE:
            items.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is sre.CATEGORY and av in _CATEGORY_CLASSES:
            items.append(_CATEGORY_CLASSES[av])
        else:
            raise _Unsupported  # a negated class (NEGATE)
    return items
