"""``RelationExtractor``: medication attributes by rule, clinical relations by a trained classifier.

Pipeline factory ``notenlp.relations.component:RelationExtractor``; config (all optional):
``{"model_path": "relations/model.json", "rules": "relations/rules.json", "threshold": null,
"nested_drugs": "relations/nested_drugs.json"}`` (threshold null: the per-type thresholds the training
recipe stored in the model, else 0.5). A drug named inside a problem by those rules ('lithium toxicity')
causes it by definition; other overlapping mentions are never paired.
Relations point at entities by the id ``Doc.finalize`` will remap (see ``features.entity_keys``).
"""

from __future__ import annotations

import bisect
import json
import logging
import re
from pathlib import Path
from typing import Any

from notenlp.attributes import DRUG, RELATION_TYPES
from notenlp.doc import Doc, Entity, Relation
from notenlp.relations.features import (ADMISSIBLE, Context, FeatureExtractor, candidate_pairs, entity_keys,
                                       overlapping)
from notenlp.relations.mentions import DEFAULT_NESTED_DRUGS, NestedDrugs
from notenlp.relations.model import NONE, RelationClassifier
from notenlp.resources import file_or_resource

log = logging.getLogger(__name__)

DEFAULT_MODEL = "relations/model.json"
DEFAULT_RULES = "relations/rules.json"
DEFAULT_THRESHOLD = 0.5
ADVERSE_EVENT = "causes_adverse_event"


def load_rules(rules: str | Path = DEFAULT_RULES) -> dict[str, Any]:
    return json.loads(file_or_resource(rules).read_text(encoding="utf-8"))


class AttributeLinker:
    """Links each medication attribute (STRENGTH, ROUTE, ...) to the drug it modifies."""

    def __init__(self, rules: dict[str, Any]):
        self.relation_of: dict[str, str] = rules["attribute_relations"]
        linking = rules["attribute_linking"]
        self.preceding_gap = re.compile(linking["preceding_adjacent_gap"], re.IGNORECASE)
        self.following_gap = re.compile(linking["following_adjacent_gap"], re.IGNORECASE)
        self.max_preceding = int(linking["max_preceding_chars"])
        self.max_following = int(linking["max_following_chars"])
        sharing = linking.get("sharing", {})
        self.alias_gap = re.compile(sharing.get("alias_gap", "(?!)"))
        self.coordination_gap = re.compile(sharing.get("coordination_gap", "(?!)"), re.IGNORECASE)
        self.coordinated_labels = set(sharing.get("coordinated_labels", ()))
        self.coordinated_text = re.compile(sharing.get("coordinated_text", "(?!)"))

    @staticmethod
    def _gap(text: str, attributes: list[tuple[int, int, int]], attribute_starts: list[int], start: int, end: int) -> str:
        """Text between two mentions with the other attribute mentions cut out. ``attributes``: (start, end,
        entity index) of every attribute mention, by start; ``attribute_starts``: their starts."""
        inside = [(k, a_start, a_end) for a_start, a_end, k in attributes[bisect.bisect_left(attribute_starts, start):
                                                                          bisect.bisect_right(attribute_starts, end)]
                  if a_end <= end]
        if not inside:
            return text[start:end]
        pieces, cursor = [], start
        for _, a_start, a_end in sorted(inside):  # cut in entity order (overlapping attributes)
            pieces.append(text[cursor:a_start])
            cursor = a_end
        pieces.append(text[cursor:end])
        return " ".join(pieces)

    def link(self, ctx: Context) -> list[tuple[int, int, str]]:
        """(drug index, attribute index, relation type) for every attribute with a drug in scope."""
        entities = ctx.doc.entities
        text = ctx.doc.text
        attributes = sorted((e.start, e.end, k) for k, e in enumerate(entities) if e.label in self.relation_of)
        attribute_starts = [start for start, _, _ in attributes]
        links = []
        for j, attribute in enumerate(entities):
            relation = self.relation_of.get(attribute.label)
            if relation is None:
                continue
            before = after = None  # the nearest drug in reach on each side (the first of equals, in entity order)
            for i in ctx.scope_members(j, DRUG):
                drug = entities[i]
                if drug.end <= attribute.start and attribute.start - drug.end <= self.max_preceding:
                    if before is None or drug.end > entities[before].end:
                        before = i
                if drug.start >= attribute.end and drug.start - attribute.end <= self.max_following:
                    if after is None or drug.start < entities[after].start:
                        after = i
            choice = None
            if before is not None and self.preceding_gap.match(
                    self._gap(text, attributes, attribute_starts, entities[before].end, attribute.start)):
                choice = before
            elif after is not None and self.following_gap.match(
                    self._gap(text, attributes, attribute_starts, attribute.end, entities[after].start)):
                choice = after
            elif before is not None:
                choice = before
            if choice is not None:
                links.append((choice, j, relation))
        return links + self.shared(ctx, links)

    def shared(self, ctx: Context, links: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """The links an attribute passes on: to its drug's parenthesised alias, and, for a dose without a
        number written outside a coordination of drugs, to every drug of the coordination."""
        entities = ctx.doc.entities
        taken = {(i, j) for i, j, _ in links}
        groups: dict[int, tuple[list[int], list[int]]] = {}
        extra = []
        for i, j, relation in links:
            if i not in groups:
                groups.update(self._drug_groups(ctx, i))
            aliases, coordination = groups[i]
            attribute = entities[j]
            partners = aliases
            if (attribute.label in self.coordinated_labels and self.coordinated_text.match(attribute.text)
                    and not entities[coordination[0]].start < attribute.start < entities[coordination[-1]].end):
                partners = coordination
            for k in partners:
                if (k, j) not in taken:
                    taken.add((k, j))
                    extra.append((k, j, relation))
        return extra

    def _drug_groups(self, ctx: Context, i: int) -> dict[int, tuple[list[int], list[int]]]:
        """Each drug in the scope of mention ``i`` -> (its alias run, its coordination run), both in text
        order and holding the drug itself: runs of drugs joined by '(' (aliases), or by '(' , 'and', 'or'."""
        entities, text = ctx.doc.entities, ctx.doc.text
        drugs = sorted(ctx.scope_members(i, DRUG), key=lambda k: entities[k].start)
        alias_runs, coordination_runs = [[drugs[0]]], [[drugs[0]]]
        for previous, k in zip(drugs, drugs[1:]):
            apart = entities[previous].end <= entities[k].start
            gap = text[entities[previous].end:entities[k].start] if apart else ""
            alias = apart and self.alias_gap.match(gap) is not None
            if alias:
                alias_runs[-1].append(k)
            else:
                alias_runs.append([k])
            if alias or (apart and self.coordination_gap.match(gap)):
                coordination_runs[-1].append(k)
            else:
                coordination_runs.append([k])
        alias_of = {k: run for run in alias_runs for k in run}
        return {k: (alias_of[k], run) for run in coordination_runs for k in run}


class RelationExtractor:
    """Appends ``Relation(head, tail, type, score)`` for attribute, adverse-event, treatment and test relations."""

    def __init__(self, *, model_path: str | None = DEFAULT_MODEL, rules: str = DEFAULT_RULES,
                 threshold: float | None = None, nested_drugs: str | None = DEFAULT_NESTED_DRUGS):
        self.rules = load_rules(rules)
        self.nested_drugs = NestedDrugs(nested_drugs) if nested_drugs else None
        self.linker = AttributeLinker(self.rules)
        self.features = FeatureExtractor(self.rules)
        self.model: RelationClassifier | None = None
        if model_path:  # None: attribute rules only
            self.model = RelationClassifier.load(file_or_resource(model_path))
        # A threshold given here applies to every type; else the model's own (chosen on dev data), else 0.5.
        tuned = self.model.metadata.get("thresholds", {}) if self.model is not None and threshold is None else {}
        self.thresholds = {t: float(tuned.get(t, DEFAULT_THRESHOLD if threshold is None else threshold))
                           for t in RELATION_TYPES}
        self.classified = {t for t in RELATION_TYPES if t not in set(self.rules["attribute_relations"].values())}
        self.allowed = {labels: [t for t in types if t in self.classified] for labels, types in ADMISSIBLE.items()}
        self.heads = {h for t in self.classified for h in RELATION_TYPES[t][0]}
        self.tails = {t_ for t in self.classified for t_ in RELATION_TYPES[t][1]}
        suppression = self.rules["assertion_suppression"]
        self.suppressed_types = set(suppression["types"])
        self.suppressing_flags = tuple(suppression["flags"])
        exception = suppression["asserted_indication"]
        self.exception_types = set(exception["types"])
        self.exception_flags = set(exception["flags"])
        self.exception_gap = re.compile(exception["gap_pattern"], re.IGNORECASE)
        coordination = self.rules.get("coordination", {})
        self.coordinated_types = set(coordination.get("types", ()))
        self.coordination_gaps = [re.compile(coordination.get(f"{end}_gap_pattern", "(?!)"), re.IGNORECASE)
                                  for end in ("head", "tail")]

    def suppressed(self, doc: Doc, head: Entity, tail: Entity, relation: str) -> bool:
        """True when an assertion flag rules the relation out (negated drug, hypothetical problem, ...)."""
        if relation not in self.suppressed_types:
            return False
        flags = {f for e in (head, tail) for f in self.suppressing_flags if getattr(e, f)}
        if not flags:
            return False
        head_flagged = any(getattr(head, f) for f in self.suppressing_flags)
        if (relation in self.exception_types and not head_flagged and flags <= self.exception_flags
                and head.end <= tail.start):
            return not self.exception_gap.search(doc.text[head.end:tail.start])
        return True

    def classify(self, ctx: Context) -> list[tuple[int, int, str, float]]:
        if self.model is None:
            return []
        doc = ctx.doc
        found = []
        for i, j in candidate_pairs(ctx, self.heads, self.tails):
            head, tail = doc.entities[i], doc.entities[j]
            allowed = self.allowed[(head.label, tail.label)]
            if overlapping(head, tail):
                continue
            if not allowed or all(self.suppressed(doc, head, tail, t) for t in allowed):
                continue  # nothing it could be classified as would be kept: spare the features
            probabilities = self.model.probabilities(self.features.features(ctx, i, j), allowed)
            best = max((t for t in probabilities if t != NONE), key=probabilities.get, default=None)
            if best is None or probabilities[best] < self.thresholds[best]:
                continue
            if self.suppressed(doc, head, tail, best):
                continue
            found.append((i, j, best, probabilities[best]))
        return found

    def nested(self, doc: Doc) -> list[tuple[int, int, str, float]]:
        """(drug, problem) pairs where the problem names the drug as its cause ('lithium toxicity')."""
        if self.nested_drugs is None:
            return []
        drugs = {(e.start, e.end): i for i, e in enumerate(doc.entities) if e.label == DRUG}
        found = []
        outer_labels = self.nested_drugs.outer_labels
        for j, problem in enumerate(doc.entities):
            if problem.label not in outer_labels:
                continue  # spares the call for the many mentions that cannot name a drug
            for start, end in self.nested_drugs.named_in(doc.text, problem):
                i = drugs.get((start, end))
                if i is not None and not self.suppressed(doc, doc.entities[i], problem, ADVERSE_EVENT):
                    found.append((i, j, ADVERSE_EVENT, 1.0))
        return found

    def coordinated(self, ctx: Context, found: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
        """The pairs a relation's head or tail passes to the mention coordinated with it ('X and Y',
        'X (Y)'), with the same type and score, that the classifier did not already give."""
        doc = ctx.doc
        entities = doc.entities
        taken = {(i, j) for i, j, _, _ in found}
        extra = []
        for i, j, relation, score in found:
            if relation not in self.coordinated_types:
                continue
            for end, other in ((0, i), (1, j)):
                mention, gap = entities[other], self.coordination_gaps[end]
                for k in ctx.scope_members(other):
                    partner = entities[k]
                    if k == other or partner.label != mention.label:
                        continue
                    first, second = (partner, mention) if partner.start < mention.start else (mention, partner)
                    if first.end > second.start or not gap.match(doc.text[first.end:second.start]):
                        continue
                    pair = (k, j) if end == 0 else (i, k)
                    head, tail = entities[pair[0]], entities[pair[1]]
                    if pair in taken or self.suppressed(doc, head, tail, relation):
                        continue
                    taken.add(pair)
                    extra.append((*pair, relation, score))
        return extra

    def __call__(self, doc: Doc) -> Doc:
        if len(doc.entities) < 2:
            return doc
        keys = entity_keys(doc)
        ctx = self.features.context(doc)
        for i, j, relation in self.linker.link(ctx):
            doc.relations.append(Relation(head=keys[i], tail=keys[j], type=relation, score=1.0))
        found = self.classify(ctx) + self.nested(doc)
        for i, j, relation, score in found + self.coordinated(ctx, found):
            doc.relations.append(Relation(head=keys[i], tail=keys[j], type=relation, score=round(score, 4)))
        return doc
