"""Clinical sentence splitting by a single scan over the text.

Clinical notes break the rules general-purpose splitters rely on: lines are hard-wrapped,
lists and vitals lines carry no final period, headers end in a colon, and abbreviations
("s/p", "b.i.d.", "Dr.", "p.o.") put periods mid-sentence. The splitter works in two steps:
lines are joined into blocks (a newline is a boundary unless it looks like a soft wrap of a
long prose line), then each block is split at sentence-final punctuation followed by
whitespace, unless the word before the period is a known abbreviation, an initial, or a
list number. Section headers at the start of a line ("HPI:") become their own sentence, so
an assertion trigger in a header never reaches into the text below it, and over-long
run-on template text is cut at whitespace.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from notenlp import regex_cache
from notenlp.annotate.phrases import phrase_regex
from notenlp.doc import Doc, Span
from notenlp.resources import resource_path

_TERMINAL_PUNCT = ".!?"
# Sentence-final punctuation (then closing quotes or brackets) before whitespace, or a semicolon ending a line.
# Written to start with a character class, so that the regex engine skips straight to the candidates.
_BOUNDARY = re.compile(r"[.!?;](?:(?<=;)(?=\s*\n)|(?<=[.!?])[.!?]*[\"')\]]*(?=\s))")
_INNER = re.compile(r"\S(?:[\s\S]*\S)?")  # a piece without its surrounding whitespace
_WORD_BEFORE = re.compile(r"([A-Za-z0-9/.&]+)$")
_DIGITS = re.compile(r"\d{1,2}")


@lru_cache(maxsize=8)
def _load_rules(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def header_pattern(sections_rules: str) -> re.Pattern[str]:
    """Line-start header ("HPI:", "Past Medical History:") from the section rules, any case."""
    from notenlp.annotate.sections import load_section_rules

    alternatives = phrase_regex([h for s in load_section_rules(sections_rules) for h in s["headers"]], space=r"[ \t]+")
    caps_header = r"[A-Z][A-Z0-9/&,'()\- ]{2,60}"  # any capitals header, known or not
    return regex_cache.compile(rf"[ \t]*(?:(?i:{alternatives})|{caps_header})[ \t]*:[ \t]*(?=\S)")


class SentenceSplitter:
    """Sets ``doc.sentences`` (end-exclusive spans, whitespace trimmed)."""

    def __init__(self, *, rules: str = "annotate/sentences.json", sections_rules: str = "annotate/sections.json"):
        data = _load_rules(str(resource_path(rules)))
        self.abbreviations = frozenset(a.lower().rstrip(".") for a in data["abbreviations"])
        self.list_marker = re.compile(r"[ \t]*" + data["list_marker"])
        # Whitespace after a letter, comma or semicolon, before an item number ("... pain 2. Fever ...").
        self.inline_list = re.compile(r"\s(?<=[A-Za-z,;]\s)\s*(?=\d{1,2}[.)]\s+[A-Z][a-z])")
        self.soft_wrap_min_chars = int(data["soft_wrap_min_chars"])
        self.max_sentence_chars = int(data["max_sentence_chars"])
        self.header = header_pattern(sections_rules)

    def __call__(self, doc: Doc) -> Doc:
        doc.sentences = self.split(doc.text)
        return doc

    def split(self, text: str) -> list[Span]:
        spans: list[Span] = []
        for block_start, block_end in self._blocks(text):
            for start, end in self._split_block(text, block_start, block_end):
                if end - start > self.max_sentence_chars:
                    spans.extend(self._cap_length(text, start, end))
                else:
                    spans.append(Span(start, end))  # pieces come trimmed
        return spans

    def _blocks(self, text: str) -> list[tuple[int, int]]:
        """Runs of lines that belong to one stretch of prose."""
        blocks: list[tuple[int, int]] = []
        block_start = None
        prev_line = ""
        pos = 0
        for line in text.split("\n"):
            line_start, line_end = pos, pos + len(line)
            pos = line_end + 1
            stripped = line.strip()
            if not stripped:
                if block_start is not None:
                    blocks.append((block_start, prev_end))
                    block_start = None
                continue
            if block_start is not None and not self._continues(prev_line, stripped, line):
                blocks.append((block_start, prev_end))
                block_start = None
            if block_start is None:
                block_start = line_start
            prev_line, prev_end = stripped, line_end
        if block_start is not None:
            blocks.append((block_start, prev_end))
        return blocks

    def _continues(self, prev: str, current: str, raw_line: str) -> bool:
        """Is this line a soft-wrapped continuation of the previous one?"""
        if prev[-1] in _TERMINAL_PUNCT or prev[-1] == ":":
            return False
        if self.list_marker.match(raw_line) or self.header.match(raw_line):
            return False
        if current[0].islower():
            return True
        return len(prev) >= self.soft_wrap_min_chars and not _looks_like_field_line(current)

    def _split_block(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        cuts = [start]
        header = self.header.match(text, start, end)
        if header and header.end() < end:
            cuts.append(header.end())
        for match in _BOUNDARY.finditer(text, start, end):
            if text[match.start()] != ";" and not self._ends_sentence(text, cuts[-1], match.start()):
                continue
            cuts.append(match.end())
        for match in self.inline_list.finditer(text, start, end):
            cuts.append(match.end())
        cuts = sorted(set(cuts))
        cuts.append(end)
        pieces = []
        for a, b in zip(cuts, cuts[1:]):
            if inner := _INNER.search(text, a, b):
                pieces.append(inner.span())
        return pieces

    def _ends_sentence(self, text: str, sentence_start: int, period: int) -> bool:
        if text[period] != ".":
            return True
        word_match = _WORD_BEFORE.search(text, max(sentence_start, period - 20), period)
        if word_match is None:
            return True
        word = word_match.group(1)
        lowered = word.lower().rstrip(".")
        if lowered in self.abbreviations or "." in lowered.strip("."):
            return False
        if len(word) == 1 and word.isalpha():
            return False  # an initial, e.g. "John A. Smith"
        if _DIGITS.fullmatch(word) and (
            not text[sentence_start:word_match.start()].strip() or self.inline_list.match(text, word_match.start() - 1)
        ):
            return False  # a list number "1." that starts an item

        return True

    def _cap_length(self, text: str, start: int, end: int) -> list[Span]:
        spans = []
        while end - start > self.max_sentence_chars:
            cut = text.rfind(" ", start + self.max_sentence_chars // 2, start + self.max_sentence_chars)
            if cut <= start:
                cut = start + self.max_sentence_chars
            piece = _trim(text, start, cut)
            if piece:
                spans.append(Span(*piece))
            start = cut
        piece = _trim(text, start, end)
        if piece:
            spans.append(Span(*piece))
        return spans


def _looks_like_field_line(line: str) -> bool:
    """Template/vitals lines such as "BP 120/80" or "Temp: 98.6" start a new unit."""
    head = line.split(" ", 1)[0]
    return head.endswith(":") or (head.isupper() and len(head) <= 5)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    if left == len(piece):
        return None
    return start + left, end - (len(piece) - len(piece.rstrip()))
