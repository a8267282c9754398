"""Offset-keeping tokenizer and a plain sentence splitter for corpus text.

Tokens are runs of letters/digits or single other characters, so hyphens, slashes,
brackets and parentheses stand alone as in the BC5CDR and NCBI Disease mention boundaries
("[3H]-naloxone" -> "[", "3H", "]", "-", "naloxone").
"""

from __future__ import annotations

import re

TOKEN_RE = re.compile(r"[^\W_]+|\S")
# Sentence ends: terminal punctuation then space then something that can start a sentence.
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[(\"'])|\n\s*\n|\n(?=\s*[A-Z0-9\-*•])")

Token = tuple[str, int, int]  # (text, start, end), end exclusive


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Tokens of ``text[start:end]`` with offsets into ``text``."""
    return [(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text, start, len(text) if end is None else end)]


def split_sentences(text: str, keep_together: list[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of ``text``; never cuts inside a ``keep_together`` span."""
    cuts = [m for m in SENTENCE_END_RE.finditer(text)]
    spans: list[tuple[int, int]] = []
    begin = 0
    for cut in cuts:
        if any(s < cut.start() < e for s, e in keep_together):
            continue
        if text[begin:cut.start()].strip():
            spans.append((begin, cut.start()))
        begin = cut.end()
    if text[begin:].strip():
        spans.append((begin, len(text)))
    return spans
