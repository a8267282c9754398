"""Compile many literal phrases into one prefix-factored regular expression.

Python's ``re`` tries alternatives one by one at every position, so a flat alternation of
hundreds of trigger phrases costs hundreds of failed attempts per character. Factoring the
phrases into a trie makes each position cost about one attempt per character actually shared
with some phrase. Longer phrases are tried first, so the longest phrase at a position wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_END = ""


def normalize_phrase(text: str) -> str:
    """Lower case, runs of whitespace collapsed to one space: the lookup key of a matched phrase."""
    return " ".join(text.lower().split())


def phrase_regex(phrases: Iterable[str], *, space: str = r"\s+", casefold: bool = True) -> str:
    """Regex source matching any phrase on word boundaries (where the phrase edge is a word character);
    a space inside a phrase matches ``space``. With ``casefold`` phrases are lower-cased (match them
    against lower-cased text or compile with ``re.IGNORECASE``); without it they keep their case."""
    word_start, other_start = {}, {}
    keys = {normalize_phrase(p) if casefold else " ".join(p.split()) for p in phrases if p.strip()}
    for phrase in keys:
        trie = word_start if _is_word_char(phrase[0]) else other_start
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[_END] = {}
    parts = []
    if word_start:
        parts.append(r"(?<!\w)" + _node_regex(word_start, space))
    if other_start:
        parts.append(_node_regex(other_start, space))
    return "|".join(f"(?:{p})" for p in parts) if parts else r"(?!x)x"


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _node_regex(node: dict, space: str, last_char: str = "") -> str:
    branches = []
    for char in sorted(c for c in node if c != _END):  # first characters differ, so order is free
        piece = space if char == " " else re.escape(char)
        branches.append(piece + _node_regex(node[char], space, char))
    ending = ""
    if _END in node:
        ending = r"(?!\w)" if _is_word_char(last_char) else ""
    if not branches:
        return ending
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if _END in node:
        return f"(?:{body}|{ending})" if ending else f"(?:{body})?"
    return body
