"""Dictionary NER: longest match of normalized tokens against the compiled vocabulary dictionary.

At each token the matcher tries the longest key that starts with it (the dictionary knows the
longest key per first token, so a note costs a few dictionary probes per token), then falls
back to abbreviations (case and context rules) and, for long unknown words, to a one-edit
spelling correction. A drug name followed by a strength (``metformin 500 mg tablet``) takes
the RxNorm product's concept; the entity span stays the drug name (strength and form are
their own entities).
"""

from __future__ import annotations

import logging

from notenlp.doc import Doc, Entity
from notenlp.vocab import text
from notenlp.vocab.dictionary import DOMAINS
from notenlp.vocab.lookup import Lookup, Resolved, load_dictionary, propagate_products

log = logging.getLogger(__name__)

FUZZY_MIN_LENGTH = 7  # shorter words are too often another real word one edit away
FUZZY_PENALTY = 0.1  # per corrected word


def entity_from(resolved: Resolved, doc_text: str, start: int, end: int, source: str) -> Entity:
    c = resolved.candidate
    return Entity(
        start=start, end=end, text=doc_text[start:end], label=resolved.label, source=source, score=resolved.score,
        concept_id=c.concept_id, source_concept_id=c.source_concept_id, vocabulary_id=c.vocabulary_id or "",
        concept_code=c.concept_code or "", concept_name=c.concept_name or "", match_score=round(resolved.score, 4),
    )


def apply_concept(entity: Entity, resolved: Resolved) -> None:
    c = resolved.candidate
    entity.concept_id = c.concept_id
    entity.source_concept_id = c.source_concept_id
    entity.vocabulary_id = c.vocabulary_id or ""
    entity.concept_code = c.concept_code or ""
    entity.concept_name = c.concept_name or ""
    entity.match_score = round(resolved.score, 4)


class DictionaryMatcher:
    """Finds vocabulary terms in a note and gives them OMOP concepts.

    ``dictionary``: path of a compiled artifact; default: compile the warehouse's vocabulary,
    or the shipped demo vocabulary, into the cache. ``domains``: OMOP domains to emit.
    ``min_score``: drop matches scored lower (exact 1.0, variants/abbreviations ~0.9-0.95,
    spelling corrections lower). ``fuzzy``: correct misspelled long words.
    """

    def __init__(self, *, dictionary: str | None = None, domains: list[str] | None = None, min_score: float = 0.7,
                 fuzzy: bool = True):
        self.lookup = Lookup(load_dictionary(dictionary), tuple(domains or DOMAINS))
        self.min_score = min_score
        self.fuzzy = fuzzy
        dictionary = self.lookup.dictionary
        self._known_tokens = {word for key in dictionary.candidates for word in key.split(" ")}
        # Only keys that can produce an entity here, so probes for e.g. unmapped ICD names cost nothing.
        self._keys = {key for key, candidates in dictionary.candidates.items()
                      if any(c.kind != "strength" and self.lookup.allowed(c) for c in candidates)}
        self._keys.update(dictionary.abbreviations)
        self._max_tokens: dict[str, int] = {}
        self._bigrams: set[str] = set()
        for key in self._keys:
            words = key.split(" ")
            self._max_tokens[words[0]] = max(self._max_tokens.get(words[0], 0), len(words))
            if len(words) > 1:
                self._bigrams.add(f"{words[0]} {words[1]}")
        self._corrections: dict[str, str | None] = {}

    def _correct(self, word: str) -> str | None:
        if word in self._corrections:
            return self._corrections[word]
        corrected = None
        if len(word) >= FUZZY_MIN_LENGTH and word.isalpha():
            found = self.lookup.dictionary.correct_token(word)
            corrected = found[0] if found else None
        if len(self._corrections) < 200_000:
            self._corrections[word] = corrected
        return corrected

    def find(self, doc: Doc) -> list[Entity]:
        tokens = text.tokens_with_offsets(doc.text)
        raw = [t for t, _, _ in tokens]
        norms = [text.norm_token(t) for t in raw]
        max_tokens = self._max_tokens
        short_max = self.lookup.labels.short_token_max
        found: list[Entity] = []
        i, n = 0, len(tokens)
        fixed = None
        if self.fuzzy:
            known = self._known_tokens
            corrected = []
            for j, word in enumerate(norms):
                if len(word) >= FUZZY_MIN_LENGTH and word not in known:
                    replacement = self._corrections[word] if word in self._corrections else self._correct(word)
                    if replacement:
                        corrected.append((j, replacement))
            if corrected:
                fixed = list(norms)
                for j, replacement in corrected:
                    fixed[j] = replacement
                # next_corrected[i]: the first corrected token at or after i (n: none)
                next_corrected = [n] * (n + 1)
                for j in range(n - 1, -1, -1):
                    next_corrected[j] = j if fixed[j] != norms[j] else next_corrected[j + 1]
        while i < n:
            match = None
            if norms[i] in max_tokens:
                match = self._match_at(doc, tokens, raw, norms, i, max_tokens, short_max)
            if match is None and fixed is not None and fixed[i] in max_tokens and \
                    next_corrected[i] < i + max_tokens[fixed[i]]:
                match = self._match_at(doc, tokens, raw, fixed, i, max_tokens, short_max)
                if match is not None:
                    edits = sum(1 for j in range(i, i + match[0]) if fixed[j] != norms[j])
                    match[1].score *= 1.0 - FUZZY_PENALTY * edits
            if match is None:
                i += 1
                continue
            length, resolved = match
            if resolved.score >= self.min_score:
                found.append(entity_from(resolved, doc.text, tokens[i][1], tokens[i + length - 1][2], "dictionary"))
            i += length
        return found

    def _match_at(self, doc, tokens, raw, norms, i, max_tokens, short_max, score_factor=1.0):
        first = norms[i]
        longest = min(max_tokens.get(first, 0), len(norms) - i)
        if longest > 1 and f"{first} {norms[i + 1]}" not in self._bigrams:
            longest = 1
        for length in range(longest, 0, -1):
            key = first if length == 1 else " ".join(norms[i:i + length])
            if key not in self._keys:
                continue
            if length == 1 and len(first) <= short_max and raw[i].islower():
                resolved = None
            else:
                resolved = self.lookup.resolve_key(key, raw[i + length:i + length + 8], score_factor=score_factor)
            if resolved is None and key in self.lookup.dictionary.abbreviations:
                start = tokens[i][1]
                surface = " ".join(raw[i:i + length])
                window = 8
                context = raw[max(0, i - window):i] + raw[i + length:i + length + window]
                resolved = self.lookup.resolve_abbreviation(key, surface, doc, start, context)
                if resolved is not None:
                    resolved.score *= score_factor
            if resolved is not None:
                return length, resolved
        return None

    def __call__(self, doc: Doc) -> Doc:
        if doc.targets is not None:
            return doc
        taken = [(e.start, e.end) for e in doc.entities if e.label in ("PROBLEM", "DRUG", "TEST", "PROCEDURE")]
        found = self.find(doc)
        propagate_products(found)
        for entity in found:
            if any(s < entity.end and entity.start < e for s, e in taken):
                continue
            doc.entities.append(entity)
        return doc
