"""Medication attributes (STRENGTH, DOSE, ROUTE, FREQUENCY, DURATION, FORM) from rules kept as data.

Anchor attributes (a strength, a dose, a route) mark a sentence as being about a medication;
attributes that are ambiguous on their own ("daily", "tablet", "for 2 weeks") are kept only
in such sentences or inside medication sections. Overlapping matches resolve to the longest,
then to the earlier rule.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from notenlp.annotate.start_chars import StartCharRegex
from notenlp.annotate.targets import has_targets
from notenlp.doc import Doc, Entity, Span
from notenlp.resources import resource_path

_DEFINITION = re.compile(r"\{([A-Z]+)\}")


@dataclass(frozen=True, slots=True)
class _Rule:
    label: str
    anchor: bool
    regex: StartCharRegex
    case_sensitive: bool
    not_before: re.Pattern[str] | None
    not_after: re.Pattern[str] | None


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


class MedicationAttributes:
    """Adds medication attribute entities (source ``"rule"``); docs with targets pass through."""

    def __init__(self, *, rules: str = "annotate/medications.json", gate_on_anchor: bool = True):
        data = _load(str(resource_path(rules)))
        definitions = data.get("definitions", {})
        self.medication_sections = frozenset(data.get("medication_sections", ()))
        self.gate_on_anchor = gate_on_anchor
        self.rules: list[_Rule] = []
        for rule in data["rules"]:
            source = "|".join(f"(?:{_expand(p, definitions)})" for p in rule["patterns"])
            # Case-insensitive rules (written in lower case) run on the lower-cased text without IGNORECASE,
            # which is several times faster.
            case_sensitive = bool(rule.get("case_sensitive"))
            if not case_sensitive and re.search(r"(?<!\\)[A-Z]", source.replace("(?-i:", "")):
                raise ValueError(f"medication rule {rule['label']}: case-insensitive patterns must be lower case")
            self.rules.append(_Rule(
                label=rule["label"],
                anchor=bool(rule.get("anchor")),
                regex=StartCharRegex(rf"(?<![\w.])(?:{source})(?!\w)"),
                case_sensitive=case_sensitive,
                not_before=re.compile(rule["not_before"], re.IGNORECASE) if rule.get("not_before") else None,
                not_after=re.compile(rule["not_after"], re.IGNORECASE) if rule.get("not_after") else None,
            ))

    def __call__(self, doc: Doc) -> Doc:
        if has_targets(doc):
            return doc
        doc.entities.extend(self.find(doc))
        return doc

    def find(self, doc: Doc) -> list[Entity]:
        text = doc.text
        lowered = text.lower()
        if len(lowered) != len(text):  # a character whose lower case has another length: keep offsets exact
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        candidates: list[tuple[int, int, int, _Rule]] = []
        anchors = [(i, r) for i, r in enumerate(self.rules) if r.anchor or not self.gate_on_anchor]
        for priority, rule in anchors:
            self._scan(rule, priority, text, lowered, [(0, len(text))], candidates)
        if self.gate_on_anchor:
            # Ambiguous attributes are only looked for where they can be kept: anchored sentences, medication sections.
            regions = self._medication_regions(doc, [c[0] for c in candidates])
            for priority, rule in enumerate(self.rules):
                if not rule.anchor and regions:
                    self._scan(rule, priority, text, lowered, regions, candidates)
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
        taken: list[tuple[int, int, _Rule]] = []
        occupied: list[tuple[int, int]] = []
        for start, end, _, rule in candidates:
            i = bisect.bisect_left(occupied, (start, end))
            if (i > 0 and occupied[i - 1][1] > start) or (i < len(occupied) and occupied[i][0] < end):
                continue
            occupied.insert(i, (start, end))
            taken.append((start, end, rule))
        if self.gate_on_anchor:
            taken = self._gate(doc, taken)
        return [Entity(start=s, end=e, text=text[s:e], label=r.label, source="rule") for s, e, r in sorted(taken, key=lambda t: t[0])]

    @staticmethod
    def _scan(rule: _Rule, priority: int, text: str, lowered: str, regions: list[tuple[int, int]],
              candidates: list[tuple[int, int, int, _Rule]]) -> None:
        haystack = text if rule.case_sensitive else lowered
        for region_start, region_end in regions:
            for match in rule.regex.finditer(haystack, region_start, region_end):
                start, end = match.span()
                if rule.not_before and rule.not_before.match(text, end):
                    continue
                if rule.not_after and rule.not_after.search(text, max(0, start - 20), start):
                    continue
                candidates.append((start, end, priority, rule))

    def _medication_regions(self, doc: Doc, anchor_starts: list[int]) -> list[tuple[int, int]]:
        sentences = doc.sentences or [Span(0, len(doc.text))]
        starts = [s.start for s in sentences]
        regions = {(sentences[i].start, sentences[i].end) for i in {bisect.bisect_right(starts, a) - 1 for a in anchor_starts}
                   if i >= 0}
        regions.update((s.start, s.end) for s in doc.sections if s.name in self.medication_sections)
        merged: list[tuple[int, int]] = []
        for start, end in sorted(regions):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def _gate(self, doc: Doc, taken: list[tuple[int, int, _Rule]]) -> list[tuple[int, int, _Rule]]:
        sentences = doc.sentences or [Span(0, len(doc.text))]
        starts = [s.start for s in sentences]
        anchored = {bisect.bisect_right(starts, s) - 1 for s, _, r in taken if r.anchor}
        section_starts = [s.start for s in doc.sections]
        kept = []
        for start, end, rule in taken:
            if rule.anchor or bisect.bisect_right(starts, start) - 1 in anchored:
                kept.append((start, end, rule))
                continue
            i = bisect.bisect_right(section_starts, start) - 1
            if i >= 0 and start < doc.sections[i].end and doc.sections[i].name in self.medication_sections:
                kept.append((start, end, rule))
        return kept


def _expand(pattern: str, definitions: dict[str, str]) -> str:
    return _DEFINITION.sub(lambda m: definitions[m.group(1)], pattern)
