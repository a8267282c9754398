"""Document-level consistency for tagged mentions.

Text often defines an abbreviation once ("nitroglycerin (NTG)") and then uses only the short
form, which a sentence-level tagger cannot connect to the long form. The short form then
gets the long form's label everywhere in the document; optionally, any mention string is
also tagged wherever else it occurs in the same document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

ABBREVIATION_RE = re.compile(r"\s*\(\s*([A-Za-z0-9][\w\-+/.]{0,9}?)\s*\)")
_MAX_ABBREVIATION = 10


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    label: str
    score: float


def is_abbreviation(short: str, long: str) -> bool:
    """A short form in parentheses: has a capital letter and starts with a letter of the long form."""
    if not (2 <= len(short) <= _MAX_ABBREVIATION) or not any(c.isupper() for c in short) or len(short) >= len(long):
        return False
    return short[0].lower() in long.lower()


def propagate(text: str, mentions: Sequence[Mention], *, repeat_mentions: bool = False) -> list[Mention]:
    """Mentions plus the occurrences of defined abbreviations (and, with ``repeat_mentions``, of
    every mention string) that overlap nothing already tagged; abbreviations tagged with another
    label than their long form take the long form's label."""
    result = list(mentions)
    forms: dict[str, tuple[str, float]] = {}
    for mention in mentions:
        match = ABBREVIATION_RE.match(text, mention.end)
        if match and is_abbreviation(match.group(1), text[mention.start:mention.end]):
            forms[match.group(1)] = (mention.label, mention.score)
    if repeat_mentions:
        for mention in mentions:
            forms.setdefault(text[mention.start:mention.end], (mention.label, mention.score))
    if not forms:
        return result
    result = [m for m in result if not (text[m.start:m.end] in forms and forms[text[m.start:m.end]][0] != m.label)]
    taken = [False] * (len(text) + 1)
    for m in result:
        taken[m.start:m.end] = [True] * (m.end - m.start)
    alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    for match in re.finditer(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", text):
        start, end = match.span()
        if not any(taken[start:end]):
            label, score = forms[match.group()]
            result.append(Mention(start, end, label, score))
            taken[start:end] = [True] * (end - start)
    return sorted(result, key=lambda m: (m.start, m.end))
