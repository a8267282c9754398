"""Document-level consistency for tagged mentions.

Text often defines an abbreviation once ("nitroglycerin (NTG)") and then uses only the short
form, which a sentence-level tagger cannot connect to the long form. A short form whose
letters spell its tagged long form (Schwartz & Hearst, PSB 2003) gets the long form's label
everywhere in the document. Optionally, any mention string is also tagged at its other
occurrences with the label most of its mentions have; a minimum share of occurrences the
tagger itself tagged can be asked for, so that one odd decision is not copied across a whole
abstract ("TD" as a disease in a paper about tobramycin dosing). On the BC5CDR and NCBI
development sets a share of 0.5 cost more recall than it saved precision, hence the default 0.
"""

from __future__ import annotations

import re
from collections import Counter
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
    """Schwartz-Hearst: the short form has a capital letter, and its letters and digits occur
    in the long form in order, the first of them at the start of a word of the long form."""
    if not (2 <= len(short) <= _MAX_ABBREVIATION) or not any(c.isupper() for c in short) or len(short) >= len(long):
        return False
    if not short[0].isalnum() or len(long.split()) > min(len(short) + 5, 2 * len(short)):
        return False
    i = len(long) - 1
    for k in range(len(short) - 1, -1, -1):
        c = short[k].lower()
        if not c.isalnum():
            continue
        while i >= 0 and (long[i].lower() != c or (k == 0 and i > 0 and long[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return False
        i -= 1
    return True


def propagate(text: str, mentions: Sequence[Mention], *, repeat_mentions: bool = False,
              min_share: float = 0.0) -> list[Mention]:
    """Mentions plus the occurrences of defined abbreviations (and, with ``repeat_mentions``, of
    mention strings tagged at no less than ``min_share`` of their occurrences) that overlap
    nothing already tagged. A propagated string carries one label through the document (the
    long form's for an abbreviation, else the label most of its mentions have); its mentions
    with another label are relabelled."""
    forms: dict[str, tuple[str, float]] = {}
    for mention in mentions:
        match = ABBREVIATION_RE.match(text, mention.end)
        if match and is_abbreviation(match.group(1), text[mention.start:mention.end]):
            forms[match.group(1)] = (mention.label, mention.score)
    candidates: dict[str, tuple[str, float]] = {}
    votes: dict[str, dict[str, int]] = {}
    if repeat_mentions:
        best: dict[str, float] = {}
        for mention in mentions:
            form = text[mention.start:mention.end]
            by_label = votes.setdefault(form, {})
            by_label[mention.label] = by_label.get(mention.label, 0) + 1
            best[form] = max(best.get(form, 0.0), mention.score)
        candidates = {form: (max(by_label, key=by_label.__getitem__), best[form]) for form, by_label in votes.items()
                      if form not in forms}
    if not forms and not candidates:
        return list(mentions)
    occurrences = _occurrences(text, {*forms, *candidates})
    if candidates and min_share > 0:
        seen = Counter(text[start:end] for start, end in occurrences)
        candidates = {form: value for form, value in candidates.items()
                      if sum(votes[form].values()) >= min_share * seen[form]}
    forms.update(candidates)
    result = []
    taken = [False] * (len(text) + 1)
    for m in mentions:
        label = forms.get(text[m.start:m.end], (m.label,))[0]
        result.append(m if label == m.label else Mention(m.start, m.end, label, m.score))
        taken[m.start:m.end] = [True] * (m.end - m.start)
    for start, end in occurrences:
        form = text[start:end]
        if form in forms and not any(taken[start:end]):
            label, score = forms[form]
            result.append(Mention(start, end, label, score))
            taken[start:end] = [True] * (end - start)
    return sorted(result, key=lambda m: (m.start, m.end))


def _occurrences(text: str, forms: set[str]) -> list[tuple[int, int]]:
    """Non-overlapping whole-word occurrences of ``forms``, leftmost first and, at one start,
    the longest form: what a regex alternation of the forms sorted longest first would find,
    without compiling a new pattern for every document."""
    found: list[tuple[int, int]] = []
    for form in filter(None, forms):
        start = text.find(form)
        while start >= 0:
            end = start + len(form)
            if (start == 0 or not text[start - 1].isalnum()) and (end == len(text) or not text[end].isalnum()):
                found.append((start, -end))
            start = text.find(form, start + 1)
    chosen: list[tuple[int, int]] = []
    last_end = 0
    for start, negative_end in sorted(found):
        if start >= last_end:
            chosen.append((start, -negative_end))
            last_end = -negative_end
    return chosen
