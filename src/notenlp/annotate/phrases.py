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


def phrase_regex(phrases: Iterable[str]) -> str:
    """Regex source matching any phrase on word boundaries (where the phrase edge is a word character);
    a space inside a phrase matches any run of whitespace. Compile it with ``re.IGNORECASE``."""
    word_start, other_start = {}, {}
    for phrase in {normalize_phrase(p) for p in phrases if p.strip()}:
        trie = word_start if _is_word_char(phrase[0]) else other_start
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[_END] = {}
    parts = []
    if word_start:
        parts.append(r"(?<!\w)" + _node_regex(word_start))
    if other_start:
        parts.append(_node_regex(other_start))
    return "|".join(f"(?:{p})" for p in parts) if parts else r"(?!x)x"


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _node_regex(node: dict, last_char: str = "") -> str:
    branches = []
    for char in sorted(c for c in node if c != _END):  # first characters differ, so order is free
        piece = r"\s+" if char == " " else re.escape(char)
        branches.append(piece + _node_regex(node[char], char))
    ending = ""
    if _END in node:
        ending = r"(?!\w)" if _is_word_char(last_char) else ""
    if not branches:
        return ending
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if _END in node:
        return f"(?:{body}|{ending})" if ending else f"(?:{body})?"
    return body
