"""Rewrites of a mention's words into the forms vocabulary names use (``resources/vocab/derivations.json``).

Real notes and abstracts write 'cardiac failure', 'OA of the right knee', 'Fx of the clavicle', 'E. coli UTI',
'Alzheimer dementia' where the vocabulary says Heart failure, Osteoarthritis of knee, Fracture of clavicle,
Escherichia coli urinary tract infection, Alzheimer's disease. ``Derivations`` turns a mention's normalized
tokens (``text.norm_tokens``) into alternative token lists, most faithful first: short forms expanded into
their words, qualifier words dropped, then word by word a body-part adjective as its noun, an adjective ending
as the noun ending, a Roman numeral after 'type'/'stage' as a digit; last, a bare eponym with its possessive
and head noun. The normalizer looks each rewrite up as it looks up the mention itself. A suffix rewrite is
kept only when it gives a word the vocabulary has, so no word is invented.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import product

from notenlp.resources import resource_path
from notenlp.vocab import text

MAX_REWRITES = 24  # per mention: a long mention with many rewritable words tries its first 24


class Derivations:
    def __init__(self, known_words: frozenset[str] | set[str], qualifiers: frozenset[str] = frozenset()):
        raw = json.loads(resource_path("vocab", "derivations.json").read_text(encoding="utf-8"))
        self.adjectives: dict[str, str] = raw["adjectives"]
        self.suffixes: list[tuple[str, str]] = [tuple(pair) for pair in raw["suffixes"]]
        self.numerals: dict[str, str] = raw["numerals"]
        self.numeral_after = frozenset(raw["numeral_after"])
        self.eponym_heads: list[str] = raw["eponym_heads"]
        self.expansions: dict[tuple[str, ...], list[str]] = {
            tuple(text.norm_tokens(short)): text.norm_tokens(words) for short, words in raw["expansions"].items()}
        self.longest_short_form = max((len(k) for k in self.expansions), default=0)
        self.known = known_words
        self.qualifiers = qualifiers

    def expanded(self, tokens: list[str]) -> list[str]:
        """``tokens`` with every short form of ``expansions`` written out (longest first, left to right)."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for length in range(min(self.longest_short_form, len(tokens) - i), 0, -1):
                words = self.expansions.get(tuple(tokens[i:i + length]))
                if words is not None:
                    out.extend(words)
                    i += length
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out

    def word_forms(self, word: str, previous: str | None) -> list[str]:
        """The word itself, then its rewrites."""
        forms = [word]
        if previous in self.numeral_after and word in self.numerals:
            forms.append(self.numerals[word])
        if word in self.adjectives:
            forms.append(self.adjectives[word])
        for ending, replacement in self.suffixes:
            if word.endswith(ending) and len(word) > len(ending) + 2:
                candidate = word[: -len(ending)] + replacement
                if candidate in self.known and candidate not in forms:
                    forms.append(candidate)
        return forms

    def rewrites(self, tokens: list[str]) -> Iterator[list[str]]:
        """Alternative token lists for ``tokens`` (never ``tokens`` itself), most faithful first."""
        seen = {tuple(tokens)}
        count = 0
        bases = [tokens, self.expanded(tokens)]
        bases += [[w for w in base if w not in self.qualifiers] for base in bases]
        for base in bases:
            if not base:
                continue
            options = [self.word_forms(word, base[i - 1] if i else None) for i, word in enumerate(base)]
            for combination in product(*options):
                if combination in seen:
                    continue
                seen.add(combination)
                yield list(combination)
                count += 1
                if count >= MAX_REWRITES:
                    return
        # an eponym written bare ('alzheimer', 'alzheimer dementia'): the possessive with its head noun
        if 1 <= len(tokens) <= 2 and "s" not in tokens:
            for head in self.eponym_heads:
                candidate = (tokens[0], "s", head)
                if candidate not in seen:
                    seen.add(candidate)
                    yield list(candidate)
