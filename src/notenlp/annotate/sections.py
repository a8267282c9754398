"""Section detection from header rules kept as data (``resources/annotate/sections.json``).

A header is recognised at the start of a line, in any case, when followed by a colon or
alone on a line written in capitals ("PHYSICAL EXAM"); in flattened text, where line breaks
were lost, a header in capitals followed by a colon after two or more spaces also counts.
Each section runs from its header to the next header (or the end of the note). A section's
``concept_id`` is the OMOP concept of its LOINC code in the loaded vocabulary, 0 when the
vocabulary does not hold the code (see ``section_concepts``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from notenlp import regex_cache
from notenlp.annotate.phrases import phrase_regex
from notenlp.annotate.section_concepts import loinc_concept_ids
from notenlp.doc import Doc, Section
from notenlp.resources import resource_path


@lru_cache(maxsize=8)
def load_section_rules(rules: str) -> tuple[dict[str, Any], ...]:
    data = json.loads(Path(resource_path(rules)).read_text(encoding="utf-8"))
    return tuple(data["sections"])


def _normalize(header: str) -> str:
    return " ".join(header.lower().split())


class SectionDetector:
    """Sets ``doc.sections``; ``Section.concept_id`` is the OMOP concept of the section's LOINC code (0 if unknown).

    ``vocabulary``: where LOINC codes are looked up (a DuckDB warehouse or an Athena folder); by default the
    run's warehouse when it holds a vocabulary, else the demo vocabulary."""

    def __init__(self, *, rules: str = "annotate/sections.json", min_bare_header_chars: int = 4,
                 vocabulary: str | None = None):
        sections = load_section_rules(rules)
        self.loinc = {s["name"]: s.get("loinc", "") for s in sections}
        concept_ids = loinc_concept_ids(self.loinc.values(), vocabulary)
        self.concept_ids = {name: concept_ids.get(code, 0) for name, code in self.loinc.items()}
        self.by_header: dict[str, tuple[str, int]] = {}
        for section in sections:
            for header in section["headers"]:
                self.by_header[_normalize(header)] = (section["name"], self.concept_ids[section["name"]])
        headers = sorted(self.by_header, key=len, reverse=True)
        alternatives = phrase_regex(headers, space=r"[ \t]+")
        capitals = phrase_regex([h.upper() for h in headers], space=r"[ \t]+", casefold=False)
        bare = phrase_regex([h.upper() for h in headers if len(h) >= min_bare_header_chars], space=r"[ \t]+",
                            casefold=False)
        list_number = r"(?:\d{1,2}[.)][ \t]*)?"
        self.pattern = regex_cache.compile(
            rf"(?m:^[ \t]*{list_number}(?P<colon>(?i:{alternatives}))[ \t]*:)"
            rf"|(?m:^[ \t]*(?P<bare>{bare})[ \t]*$)"
            rf"|(?:(?<=\S)[ \t]{{2,}}|(?<=[.;])[ \t]+)(?P<inline>{capitals})[ \t]*:"
        )
        # A header starts at a line start or at the blanks before an inline header. Searched as it is, the
        # pattern is tried at every position of the note; these guards start with a newline or a blank, so the
        # regex engine skips to those and tries the pattern there (after the newline; at the blank).
        self.after_newline = regex_cache.compile(rf"\n(?=(?:{self.pattern.pattern}))")
        self.at_blank = regex_cache.compile(rf"[ \t](?<=(?=(?:{self.pattern.pattern}))[ \t])")

    def __call__(self, doc: Doc) -> Doc:
        doc.sections = self.detect(doc.text)
        return doc

    def detect(self, text: str) -> list[Section]:
        found: list[tuple[int, str, str, int]] = []
        for match in self._header_matches(text):
            group = match.lastgroup or "colon"
            header = match.group(group)
            if group == "bare" and header != header.upper():
                continue
            name, concept_id = self.by_header[_normalize(header)]
            found.append((match.start(group), header, name, concept_id))
        sections = []
        for i, (start, header, name, concept_id) in enumerate(found):
            end = found[i + 1][0] if i + 1 < len(found) else len(text)
            sections.append(Section(start=start, end=end, name=name, header=header, concept_id=concept_id))
        return sections

    def _header_matches(self, text: str) -> Iterator[re.Match[str]]:
        """``self.pattern.finditer(text)``: the guards find every place a match starts (and starts within
        a match, which ``finditer`` passes over)."""
        starts = {0}
        starts.update(match.end() for match in self.after_newline.finditer(text))
        starts.update(match.start() for match in self.at_blank.finditer(text))
        resume = 0
        for start in sorted(starts):
            if start >= resume and (match := self.pattern.match(text, start)):
                resume = match.end()
                yield match
