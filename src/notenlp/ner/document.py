"""Document-level consistency for tagged mentions.

Text often defines an abbreviation once ("nitroglycerin (NTG)") and then uses only the short
form, which a sentence-level tagger cannot connect to the long form. A short form whose
letters spell its tagged long form (Schwartz & Hearst, PSB 2003) gets the long form's label
everywhere in the document; the definition also fixes the long form's extent (the mention
grows to the whole long form) and, when no mention overlaps the long form, makes the short
form no mention at all (BC5CDR dev strict F1: chemicals 0.891 -> 0.897, diseases 0.802 ->
0.812; NCBI 0.841 -> 0.842). Optionally, any mention string is also tagged at its other
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

# "(SHORT)", or "(SHORT: ..." / "(SHORT, ..." opening a parenthesis that says more
DEFINITION_RE = re.compile(r"\(\s*([A-Za-z0-9][\w\-+/.]{0,9}?)\s*(?:\)|[:;,](?=\s))")
# A long form part that names a cause, not the condition ("ribavirin-induced hemolytic anemia")
CAUSE_RE = re.compile(r"(?i)(?:induced|related|associated|mediated|caused|dependent)\b")
_WORD_RE = re.compile(r"\S+")
_MAX_ABBREVIATION = 10


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    label: str
    score: float


def long_form_start(text: str, end: int, short: str) -> int | None:
    """Start of the Schwartz-Hearst long form of ``short`` ending at ``end``: the shortest run
    of at most ``min(len + 5, 2 len)`` words before it, within its clause, whose letters spell
    the short form; None when there is none."""
    if not (2 <= len(short) <= _MAX_ABBREVIATION) or not any(c.isupper() for c in short) or not short[0].isalnum():
        return None
    offset = max(0, end - 40 * _MAX_ABBREVIATION)
    window = text[offset:end]
    cut = max(window.rfind(". "), window.rfind("; "), window.rfind("("), window.rfind(")"))
    words = list(_WORD_RE.finditer(window, cut + 1))[-min(len(short) + 5, 2 * len(short)):]
    if not words:
        return None
    first = words[0].start()
    i = len(window) - 1
    for k in range(len(short) - 1, -1, -1):
        c = short[k].lower()
        if not c.isalnum():
            continue
        while i >= first and (window[i].lower() != c or (k == 0 and i > 0 and window[i - 1].isalnum())):
            i -= 1
        if i < first:
            return None
        i -= 1
    start = i + 1
    return offset + start if end - (offset + start) > len(short) else None


def definitions(text: str) -> list[tuple[int, int, str]]:
    """(long form start, long form end, short form) of each "long form (SHORT)" in the text."""
    found = []
    for match in DEFINITION_RE.finditer(text):
        end = match.start()
        while end > 0 and text[end - 1].isspace():
            end -= 1
        short = match.group(1)
        start = long_form_start(text, end, short)
        if start is not None:
            found.append((start, end, short))
    return found


def propagate(text: str, mentions: Sequence[Mention], *, repeat_mentions: bool = False,
              min_share: float = 0.0) -> list[Mention]:
    """Mentions made consistent with the document's abbreviation definitions, plus the
    occurrences of defined abbreviations (and, with ``repeat_mentions``, of mention strings
    tagged at no less than ``min_share`` of their occurrences) that overlap nothing already
    tagged.

    A definition "long form (SHORT)" whose long form ends with a mention gives SHORT that
    mention's label everywhere, and the mention grows to the whole long form when the rest of
    it is untagged and is not a cause ("Low-molecular-weight heparin (LMWH)" but not
    "ribavirin-induced hemolytic anemia (RIHA)"); a long form that overlaps no mention makes
    SHORT no mention anywhere ("parathyroid hormone (PTH)"). A propagated string carries one
    label through the document (the long form's for an abbreviation, else the label most of
    its mentions have); its mentions with another label are relabelled."""
    mentions = list(mentions)
    forms: dict[str, tuple[str, float]] = {}
    not_mentions: set[str] = set()
    for start, end, short in definitions(text):
        inside = [k for k, m in enumerate(mentions) if m.start < end and start < m.end]
        if not inside:
            not_mentions.add(short)
            continue
        head = mentions[inside[-1]]
        if head.end != end:
            continue
        forms[short] = (head.label, head.score)
        if len(inside) == 1 and start < head.start and not CAUSE_RE.search(text, start, head.start):
            mentions[inside[-1]] = Mention(start, head.end, head.label, head.score)
    not_mentions -= forms.keys()
    if not_mentions:
        mentions = [m for m in mentions if text[m.start:m.end] not in not_mentions]
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
        return sorted(mentions, key=lambda m: (m.start, m.end))
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
