"""Give OMOP concepts to entities that have none yet (e.g. from the statistical NER).

For an entity with label L, only concepts of the domains ``LABEL_DOMAINS[L]`` qualify, so a
PROBLEM never becomes a drug. Steps, first hit wins: exact key (with the strength/form written
after a drug), abbreviation (case and context rules), a combination product (``amoxicillin-clavulanate``),
the drug name at the start of the mention, bag of words (any word order), spelling
correction of each word, the words rewritten into the forms names use (``vocab.derivations``: 'cardiac
failure', 'hypoxic', 'type II'), the longest dictionary term inside the mention, then character
trigram similarity. Each step has a lower score; below ``min_score`` the entity keeps no concept.
"""

from __future__ import annotations

import difflib
import json
import logging
import re

from notenlp.attributes import LABEL_DOMAINS
from notenlp.doc import Doc
from notenlp.resources import resource_path
from notenlp.vocab.dictionary import DOMAINS
from notenlp.vocab import drugs, text
from notenlp.vocab.derivations import Derivations
from notenlp.vocab.lookup import Lookup, Resolved, load_dictionary, propagate_products
from notenlp.vocab.matcher import apply_concept

log = logging.getLogger(__name__)

_COMBINATION_SPLIT = re.compile(r"\s*(?:-|/|\+|\band\b|\bwith\b)\s*")
BAG_SCORE = 0.9
CORRECTED_SCORE = 0.85
DERIVED_SCORE = 0.85  # the words rewritten as vocabulary names write them (vocab.derivations)
INNER_SCORE = 0.8  # a term inside the mention with at most INNER_FREE_WORDS words around it
INNER_FREE_WORDS = 2
TRIGRAM_MIN_DICE = 0.5
SIMILARITY_WEIGHT = 0.9  # trigram matches score 0.9 x difflib ratio
SIMILAR_CACHE_SIZE = 100_000


class Normalizer:
    """``domains``: domains to normalize to; ``min_score``: keep no concept below it;
    ``dictionary``: as for ``DictionaryMatcher``; ``overwrite``: also re-normalize entities that
    already have a concept."""

    def __init__(self, *, dictionary: str | None = None, domains: list[str] | None = None, min_score: float = 0.75,
                 overwrite: bool = False):
        self.lookup = Lookup(load_dictionary(dictionary), tuple(domains or DOMAINS))
        self.min_score = min_score
        self.overwrite = overwrite
        self._known_tokens = self.lookup.dictionary.key_words()
        self._similar_keys: dict[tuple[str, frozenset[str]], list[str]] = {}
        self._ratios: dict[tuple[str, str], float] = {}  # (key, similar key) -> difflib ratio
        self._qualifiers = frozenset(json.loads(resource_path("vocab", "qualifiers.json").read_text(encoding="utf-8"))
                                     ["words"])
        self._derivations = Derivations(self._known_tokens, self._qualifiers)

    def __call__(self, doc: Doc) -> Doc:
        for entity in doc.entities:
            if entity.label not in LABEL_DOMAINS:
                continue
            if (entity.concept_id or entity.source_concept_id) and not self.overwrite:
                continue
            resolved = self.resolve(entity.text, entity.label, doc=doc, start=entity.start, end=entity.end)
            if resolved is not None:
                apply_concept(entity, resolved)
        propagate_products(doc.entities)
        return doc

    def resolve(self, mention: str, label: str, *, doc: Doc | None = None, start: int = 0,
                end: int | None = None) -> Resolved | None:
        """The concept of a mention, or None; ``doc`` gives the text after it and its section."""
        allowed = frozenset(LABEL_DOMAINS.get(label, ())) & self.lookup.domains
        if not allowed:
            return None
        raw = text.TOKEN_RE.findall(mention)
        if not raw:
            return None
        norms = [text.norm_token(t) for t in raw]
        key = " ".join(norms)
        after: list[str] = []
        context: list[str] = []
        if doc is not None:
            end = start + len(mention) if end is None else end
            after = text.TOKEN_RE.findall(doc.text, end, end + 60)
            context = (text.TOKEN_RE.findall(doc.text, max(0, start - 60), start)[-8:]
                       + after[:8])
        for step in (self._exact, self._abbreviation, self._combination, self._drug_in_mention, self._bag,
                     self._corrected, self._derived, self._inner, self._similar):
            resolved = step(mention, key, raw, norms, after, context, allowed, doc, start)
            if resolved is not None and resolved.label == label and resolved.score >= self.min_score:
                return resolved
            if resolved is not None and resolved.score >= self.min_score and label in ("PROBLEM", "TEST", "PROCEDURE"):
                # Observation concepts carry their own label by class; the domain already agrees.
                return resolved
        return None

    def _exact(self, mention, key, raw, norms, after, context, allowed, doc, start):
        return self.lookup.resolve_key(key, after, allowed)

    def _abbreviation(self, mention, key, raw, norms, after, context, allowed, doc, start):
        return self.lookup.resolve_abbreviation(key, " ".join(raw), doc, start, context + after[:8], allowed)

    def _drug_in_mention(self, mention, key, raw, norms, after, context, allowed, doc, start):
        """``metformin 500 mg tablet`` as one mention: the longest drug name, then its strength."""
        if "Drug" not in allowed:
            return None
        for length in range(len(norms) - 1, 0, -1):
            resolved = self.lookup.resolve_key(" ".join(norms[:length]), raw[length:] + after, allowed)
            if resolved is not None:
                return resolved
        return None

    def _combination(self, mention, key, raw, norms, after, context, allowed, doc, start):
        """``hydrocodone-acetaminophen``, ``amoxicillin/clavulanate``: a multi-ingredient product."""
        if "Drug" not in allowed:
            return None
        parts = [p for p in _COMBINATION_SPLIT.split(mention.lower()) if p.strip()]
        if len(parts) < 2:
            return None
        keys = []
        for part in parts:
            resolved = self.lookup.resolve_key(text.key(part), [], allowed)
            # A part the vocabulary has no single-ingredient concept for (e.g. only in packs) is
            # still written as an ingredient name; the combination key below checks it.
            ingredient = drugs.ingredient_key(resolved.candidate.concept_name, resolved.candidate.concept_class_id) \
                if resolved else text.key(drugs.plain_ingredient(part))
            if not ingredient or " + " in ingredient:
                return None
            keys.append(ingredient)
        return self.lookup.resolve_key(drugs.combo_key(keys), after, allowed)

    def _bag(self, mention, key, raw, norms, after, context, allowed, doc, start):
        for candidate in self.lookup.dictionary.by_bag(text.bag(norms)):
            label = self.lookup.allowed(candidate, allowed)
            if label:
                return Resolved(candidate, label, BAG_SCORE)
        return None

    def _corrected(self, mention, key, raw, norms, after, context, allowed, doc, start):
        fixed = []
        for word in norms:
            if word in self._known_tokens or len(word) < 5:
                fixed.append(word)
                continue
            found = self.lookup.dictionary.correct_token(word)
            fixed.append(found[0] if found else word)
        if fixed == norms:
            return None
        resolved = self.lookup.resolve_key(" ".join(fixed), after, allowed) or \
            self._bag(None, None, None, fixed, None, None, allowed, None, None)
        if resolved is not None:
            resolved.score = min(resolved.score, CORRECTED_SCORE)
        return resolved

    def _derived(self, mention, key, raw, norms, after, context, allowed, doc, start):
        """'cardiac failure', 'hypoxic', 'type II', 'Alzheimer dementia': words rewritten as names write them."""
        for tokens in self._derivations.rewrites(norms):
            resolved = self.lookup.resolve_key(" ".join(tokens), after, allowed) or \
                self._bag(None, None, None, tokens, None, None, allowed, None, None)
            if resolved is not None:
                resolved.score = min(resolved.score, DERIVED_SCORE)
                return resolved
        return None

    def _inner(self, mention, key, raw, norms, after, context, allowed, doc, start):
        best = None
        for length in range(len(norms) - 1, 0, -1):
            for i in range(0, len(norms) - length + 1):
                resolved = self.lookup.resolve_key(" ".join(norms[i:i + length]), raw[i + length:] + after, allowed)
                if resolved is not None:
                    uncovered = sum(1 for j, word in enumerate(norms) if not i <= j < i + length
                                    and word not in self._qualifiers and word not in text.BAG_STOPWORDS)
                    resolved.score *= INNER_SCORE if uncovered <= INNER_FREE_WORDS else INNER_SCORE * length / len(norms)
                    best = resolved
                    break
            if best is not None:
                return best
        return None

    def _similar(self, mention, key, raw, norms, after, context, allowed, doc, start):
        similar = self._similar_keys.get((key, allowed))
        if similar is None:
            # Notes repeat their mentions: the search depends on the key only, so remember it.
            similar = [candidate_key for _, candidate_key in self.lookup.dictionary.trigram_search(
                key, set(allowed), min_dice=TRIGRAM_MIN_DICE)]
            if len(self._similar_keys) < SIMILAR_CACHE_SIZE:
                self._similar_keys[(key, allowed)] = similar
        for candidate_key in similar:
            resolved = self.lookup.resolve_key(candidate_key, after, allowed)
            if resolved is not None:
                ratio = self._ratios.get((key, candidate_key))
                if ratio is None:
                    ratio = difflib.SequenceMatcher(None, key, candidate_key).ratio()
                    if len(self._ratios) < SIMILAR_CACHE_SIZE:
                        self._ratios[(key, candidate_key)] = ratio
                resolved.score = min(resolved.score, SIMILARITY_WEIGHT * ratio)
                return resolved
        return None
