"""Dictionary NER: longest match of normalized tokens against the compiled vocabulary dictionary.

At each token the matcher tries the longest key that starts with it (the dictionary knows the
longest key per first token, so a note costs a few dictionary probes per token), then falls
back to abbreviations (case and context rules) and, for long unknown words, to a one-edit
spelling correction. A drug name followed by a strength (``metformin 500 mg tablet``) takes
the RxNorm product's concept; the entity span stays the drug name (strength and form are
their own entities).

A combination written in the note (``amoxicillin-clavulanate``, ``ethinyl estradiol /
norethindrone acetate``, ``hydrocodone and acetaminophen``) is one DRUG: the multi-ingredient
concept when the vocabulary has it; else, for parts joined by ``-`` or ``/`` that are each a drug,
the first-named ingredient's concept (clinicians name the principal drug first: hydrocodone in
``hydrocodone-acetaminophen``). A salt after a drug name (``naproxen sodium``) is part of the drug.
An analyte the vocabulary knows as a lab test (potassium, sodium) is a DRUG where the words around
it say the substance is given (``potassium chloride``, ``received potassium``), a TEST otherwise
(``resources/vocab/analytes.json``).
"""

from __future__ import annotations

import bisect
import json
import logging
from dataclasses import dataclass

from notenlp import cache
from notenlp.doc import Doc, Entity
from notenlp.vocab import drugs, text
from notenlp.vocab.dictionary import DOMAINS, Candidate
from notenlp.resources import resource_path
from notenlp.vocab.lookup import Lookup, Resolved, load_dictionary, propagate_products

log = logging.getLogger(__name__)

FUZZY_MIN_LENGTH = 7  # shorter words are too often another real word one edit away
FUZZY_PENALTY = 0.1  # per corrected word
MAX_COMBINATION_TOKENS = 10


@dataclass(frozen=True)
class AnalyteRules:
    window: int
    analytes: frozenset[str]
    drug_before: frozenset[str]
    drug_after: frozenset[str]
    drug_salts: frozenset[str]
    test_before: frozenset[str]
    test_after: frozenset[str]

    @classmethod
    def load(cls, name: str = "analytes.json") -> "AnalyteRules":
        raw = json.loads(resource_path("vocab", name).read_text(encoding="utf-8"))
        return cls(int(raw["window"]), *(frozenset(raw[field]) for field in
                                         ("analytes", "drug_before", "drug_after", "drug_salts", "test_before", "test_after")))


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
        self._known_tokens = dictionary.key_words()
        # Which keys can produce an entity here depends on the dictionary, the domains and the labels: read
        # from the cache at a process start instead of walking the ~150k keys' candidates.
        self._keys, self._max_tokens, self._bigrams = dictionary.derived(
            "matcher-keys", self._match_keys, json.dumps(sorted(self.lookup.domains)),
            resource_path("vocab", "labels.json").read_bytes(), cache.source_bytes(__name__, "notenlp.vocab.lookup"))
        self._corrections: dict[str, str | None] = {}
        data = drugs.drug_data()
        self._salts = data.salts
        self._brands = {text.key(brand): ingredients for brand, ingredients in data.brands.items()}
        self._joiners = data.combination_joiners
        self._combination_words = data.combination_words
        self._combinations = {key for key in self._keys if " + " in key}
        self._combination_first = {part.split(" ")[0] for key in self._combinations for part in key.split(" + ")}
        self._combination_first.update(key.split(" ")[0] for key in self._brands)
        self._match_starts = frozenset(self._max_tokens) | self._combination_first
        self._analyte_rules = AnalyteRules.load()

    def _match_keys(self) -> tuple[set[str], dict[str, int], set[str]]:
        """The keys that can produce an entity here (so probes for e.g. unmapped ICD names cost nothing),
        the most words of a key by its first word, and each multi-word key's first two words."""
        dictionary = self.lookup.dictionary
        allowed = self.lookup.allowed
        keys = set(dictionary.abbreviations)
        # Plain loops, not a generator per key: this walks ~150k keys when the cache has no entry.
        for key, candidates in dictionary.candidates.items():
            for c in candidates:
                if c.kind != "strength" and allowed(c):
                    keys.add(key)
                    break
        max_tokens: dict[str, int] = {}
        bigrams: set[str] = set()
        for key in keys:
            if " " not in key:
                if key not in max_tokens:
                    max_tokens[key] = 1
                continue
            words = key.split(" ")
            if max_tokens.get(words[0], 0) < len(words):
                max_tokens[words[0]] = len(words)
            bigrams.add(f"{words[0]} {words[1]}")
        return keys, max_tokens, bigrams

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
        fixed = None
        if self.fuzzy:
            known = self._known_tokens
            corrected = []
            for j in [j for j, word in enumerate(norms) if len(word) >= FUZZY_MIN_LENGTH and word not in known]:
                word = norms[j]
                replacement = self._corrections[word] if word in self._corrections else self._correct(word)
                if replacement:
                    corrected.append((j, replacement))
            if corrected:
                fixed = list(norms)
                for j, replacement in corrected:
                    fixed[j] = replacement
                changed = [j for j, replacement in corrected if replacement != norms[j]]  # ascending
        # A match can only start at a token that starts a key or a combination (or does once corrected):
        # the others are passed over without a look.
        starts = self._match_starts
        candidates = [i for i, word in enumerate(norms) if word in starts]
        if fixed is not None:
            candidates = sorted({*candidates, *(j for j, _ in corrected if fixed[j] in max_tokens)})
        i = 0  # the first token not yet inside a match
        for at in candidates:
            if at < i:
                continue
            i = at
            match = None
            if norms[i] in max_tokens:
                match = self._match_at(doc, tokens, raw, norms, i, max_tokens, short_max)
            if match is None and fixed is not None and fixed[i] in max_tokens:
                # the first corrected token at or after i must lie within the longest key starting here
                k = bisect.bisect_left(changed, i)
                if k < len(changed) and changed[k] < i + max_tokens[fixed[i]]:
                    match = self._match_at(doc, tokens, raw, fixed, i, max_tokens, short_max)
                    if match is not None:
                        edits = sum(1 for j in range(i, i + match[0]) if fixed[j] != norms[j])
                        match[1].score *= 1.0 - FUZZY_PENALTY * edits
            if (match is None and norms[i] in self._combination_first) or (match is not None and match[1].label == "DRUG"):
                combination = self._combination_at(doc.text, tokens, raw, norms, i)
                if combination is not None and (match is None or combination[0] > match[0]):
                    match = combination
            if match is None:
                i += 1
                continue
            length, resolved = match
            if resolved.label == "TEST" and length == 1 and norms[i] in self._analyte_rules.analytes:
                given = self._substance_given(doc.text, tokens, raw, i)
                if given is not None:
                    length, resolved = given
                elif not self._measured(doc.text, tokens, raw, i):
                    i += 1
                    continue
            elif resolved.label == "DRUG":
                length = self._with_salt(doc.text, tokens, raw, norms, i + length) - i
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

    def _part_ingredients(self, words: list[str]) -> list[str] | None:
        """Plain-ingredient keys a combination part names (a brand or shorthand may name several)."""
        part_key = text.key(" ".join(words))
        if part_key in self._brands:
            return [text.key(drugs.plain_ingredient(name)) for name in self._brands[part_key].split(" + ")]
        ingredient = text.key(drugs.plain_ingredient(" ".join(words)))
        return [ingredient] if ingredient else None

    def _combination_at(self, doc_text: str, tokens, raw, norms, i):
        """(tokens, resolved) of the longest combination starting at token ``i``, else None."""
        n = len(tokens)
        parts: list[list[int]] = [[i]]
        joined_by_word: list[bool] = []
        j = i + 1
        while j < min(n, i + MAX_COMBINATION_TOKENS):
            gap = doc_text[tokens[j - 1][2]:tokens[j][1]]
            if gap == " ":
                if raw[j].lower() in self._combination_words and j + 1 < n and \
                        doc_text[tokens[j][2]:tokens[j + 1][1]] == " ":
                    if not self._may_start_drug(norms[j + 1]):
                        break
                    parts.append([j + 1])
                    joined_by_word.append(True)
                    j += 2
                    continue
                parts[-1].append(j)
            elif gap.strip() in self._joiners and "\n" not in gap:
                if not self._may_start_drug(norms[j]):
                    break
                parts.append([j])
                joined_by_word.append(False)
            else:
                break
            j += 1
        if len(parts) < 2:
            return None
        # The last part may run past the drug (``amoxicillin-clavulanate 875 mg``): try its prefixes too.
        for count in range(len(parts), 1, -1):
            last = parts[count - 1]
            for size in range(len(last), 0, -1):
                words = [[raw[t] for t in part] for part in parts[:count - 1]] + [[raw[t] for t in last[:size]]]
                found = self._combination(words, joined_by_word[:count - 1], raw[last[size - 1] + 1:last[size - 1] + 9])
                if found is not None:
                    return last[size - 1] + 1 - i, found
        return None

    def _may_start_drug(self, word: str) -> bool:
        return word in self._combination_first or word in self._max_tokens

    def _combination(self, words: list[list[str]], joined_by_word: list[bool], raw_after: list[str]):
        ingredients: list[str] = []
        for part in words:
            found = self._part_ingredients(part)
            if not found:
                return None
            ingredients.extend(found)
        key = drugs.combo_key(ingredients)
        if key in self._combinations:
            resolved = self.lookup.resolve_key(key, raw_after)
            if resolved is not None and resolved.label == "DRUG":
                return resolved
        if any(joined_by_word) or len(words) != 2:
            return None
        # Not in the vocabulary as a combination: the first-named drug, when each part is a drug.
        first, second = (self.lookup.resolve_key(text.key(" ".join(part)), []) for part in words)
        if first is None or second is None or first.label != "DRUG" or second.label != "DRUG":
            return None
        return self.lookup.resolve_key(text.key(" ".join(words[0])), raw_after)

    def _substance_given(self, doc_text: str, tokens, raw, i: int):
        """(tokens, resolved DRUG) of an analyte that the words around it say is given, else None."""
        rules = self._analyte_rules

        def joined(a: int, b: int) -> bool:
            return doc_text[tokens[a][2]:tokens[b][1]] in (" ", "-")

        n = len(tokens)
        before = [raw[j].lower() for j in range(i - 1, max(-1, i - 1 - rules.window), -1)
                  if all(joined(k, k + 1) for k in range(j, i))]
        after = [raw[j].lower() for j in range(i + 1, min(n, i + 1 + rules.window))
                 if all(joined(k, k + 1) for k in range(i, j))]
        if not (rules.drug_before.intersection(before) or rules.drug_after.intersection(after)):
            return None
        length = 1
        if after and after[0] in rules.drug_salts:
            length = 2  # ``potassium chloride``: the salt given is part of the drug
        key = " ".join(text.norm_token(t) for t in raw[i:i + length])
        drug = frozenset({"Drug"})
        resolved = self.lookup.resolve_key(key, raw[i + length:i + length + 8], allowed_domains=drug) or \
            self.lookup.resolve_key(text.norm_token(raw[i]), raw[i + length:i + length + 8], allowed_domains=drug)
        if resolved is None:
            # No drug concept by this name: a DRUG all the same, for the normalizer to place.
            resolved = Resolved(Candidate(key, "name", 0, 0, "Drug", "", "", "", "", "", None), "DRUG", 0.9)
        return length, resolved

    def _measured(self, doc_text: str, tokens, raw, i: int) -> bool:
        """Whether a value or result word is written next to an analyte (``potassium 3.2``, ``check K``)."""
        rules = self._analyte_rules
        n = len(tokens)
        after = []
        for j in range(i + 1, min(n, i + 2 + rules.window)):
            if "\n" in doc_text[tokens[j - 1][2]:tokens[j][1]]:
                break
            after.append(raw[j].lower())
        if any(word[0].isdigit() for word in after) or rules.test_after.intersection(after[:rules.window]):
            return True
        before = [raw[j].lower() for j in range(max(0, i - rules.window), i)
                  if "\n" not in doc_text[tokens[j][2]:tokens[i][1]]]
        return bool(rules.test_before.intersection(before))

    def _with_salt(self, doc_text: str, tokens, raw, norms, end: int) -> int:
        """End of a drug name once the salt written after it (``naproxen sodium``) is taken in."""
        j = end
        while j < len(tokens) and norms[j] in self._salts and doc_text[tokens[j - 1][2]:tokens[j][1]] == " ":
            j += 1
        # ``lisinopril sodium 138``: a lab name and its value follow the drug, not a salt.
        if j > end and j < len(tokens) and raw[j][0].isdigit() and \
                (j + 1 >= len(tokens) or raw[j + 1].lower() not in drugs.drug_data().units):
            return end
        return j

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
