"""``RelationMentions``: the mentions relation types need that entity recognition may miss.

Pipeline factory ``notenlp.relations.mentions:RelationMentions``; config (optional):
``{"rules": "relations/mentions.json", "nested_drugs": "relations/nested_drugs.json"}``. It runs after
the NER components and before ConText, so the mentions it adds get assertion flags and concepts like
any other. Tests (labs, imaging) head ``reveals``; dose descriptors ('overdose', 'high-dose') are the
doses pharmacovigilance text gives. What entity recognition found wins: a match only replaces the
mentions its rule names and covers. The one exception is a drug named inside a problem ('lithium
toxicity'): it is added nested in the problem, which stays.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notenlp import regex_cache
from notenlp.annotate.start_chars import start_lookahead
from notenlp.annotate.targets import has_targets
from notenlp.attributes import DRUG
from notenlp.doc import Doc, Entity, overlapping_entities
from notenlp.resources import file_or_resource

log = logging.getLogger(__name__)

DEFAULT_RULES = "relations/mentions.json"
DEFAULT_NESTED_DRUGS = "relations/nested_drugs.json"
_DEFINITION = re.compile(r"\{([A-Z]+)\}")


@dataclass(frozen=True)
class MentionRule:
    label: str
    regex: re.Pattern[str]
    replaces: frozenset[str]
    coexists_with: frozenset[str]
    not_before: re.Pattern[str] | None
    not_after: re.Pattern[str] | None
    case_sensitive: bool  # else the expression (lower-cased) runs on the lower-cased text


def load_mention_rules(rules: str | Path = DEFAULT_RULES) -> list[MentionRule]:
    data: dict[str, Any] = json.loads(file_or_resource(rules).read_text(encoding="utf-8"))
    definitions = data.get("definitions", {})

    def expand(pattern: str) -> str:
        return _DEFINITION.sub(lambda m: definitions[m.group(1)], pattern)

    compiled = []
    for rule in data["rules"]:
        source = "|".join(f"(?:{expand(p)})" for p in rule["patterns"])
        lead = start_lookahead(source)
        compiled.append(MentionRule(
            label=rule["label"],
            regex=regex_cache.compile(rf"(?<![\w.\-/]){lead}(?:{source})(?![\w\-])"),
            case_sensitive=bool(rule.get("case_sensitive")),
            replaces=frozenset(rule.get("replaces", ())),
            coexists_with=frozenset(rule.get("coexists_with", ())),
            not_before=re.compile(rule["not_before"], re.IGNORECASE) if rule.get("not_before") else None,
            not_after=re.compile(rule["not_after"], re.IGNORECASE) if rule.get("not_after") else None,
        ))
    return compiled


class NestedDrugs:
    """Finds the drug a problem mention names ('lithium toxicity' -> 'lithium'), from ``nested_drugs.json``."""

    def __init__(self, path: str | Path = DEFAULT_NESTED_DRUGS):
        data: dict[str, Any] = json.loads(file_or_resource(path).read_text(encoding="utf-8"))
        self.outer_labels = frozenset(data["outer_labels"])
        self.pattern = re.compile(data["pattern"])
        self.not_drug = frozenset(data["not_drug"])
        self.not_drug_endings = tuple(data.get("not_drug_endings", ()))

    def named_in(self, text: str, outer: Entity) -> list[tuple[int, int]]:
        """Offsets of the drugs that mention ``outer`` (of ``text``) names, if its label can name one."""
        if outer.label not in self.outer_labels:
            return []
        spans = []
        for match in self.pattern.finditer(text[outer.start:outer.end].lower()):
            drug = match.group("drug")
            if (drug not in self.not_drug and drug.split("-")[0] not in self.not_drug
                    and not drug.endswith(self.not_drug_endings)):
                spans.append((outer.start + match.start("drug"), outer.start + match.end("drug")))
        return spans

    def find(self, doc: Doc) -> list[Entity]:
        return [Entity(start, end, doc.text[start:end], DRUG, source="rule")
                for outer in doc.entities for start, end in self.named_in(doc.text, outer)]


class RelationMentions:
    """Adds TEST and dose-descriptor mentions from ``resources/relations/mentions.json`` and the drugs
    named inside problems (``nested_drugs.json``; ``nested_drugs=None``: none)."""

    def __init__(self, *, rules: str = DEFAULT_RULES, nested_drugs: str | None = DEFAULT_NESTED_DRUGS):
        self.rules = load_mention_rules(rules)
        self.nested_drugs = NestedDrugs(nested_drugs) if nested_drugs else None

    def find(self, text: str) -> list[tuple[int, int, MentionRule]]:
        """Non-overlapping matches, longest first (earlier rule on ties)."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a character whose lower case has another length: keep offsets exact
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        candidates = []
        for priority, rule in enumerate(self.rules):
            for match in rule.regex.finditer(text if rule.case_sensitive else lowered):
                start, end = match.span()
                if rule.not_before and rule.not_before.match(text, end):
                    continue
                if rule.not_after and rule.not_after.search(text[max(0, start - 20):start]):
                    continue
                candidates.append((start, end, priority, rule))
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
        taken: list[tuple[int, int, MentionRule]] = []
        for start, end, _, rule in candidates:
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, rule))
        return sorted(taken, key=lambda t: t[0])

    def __call__(self, doc: Doc) -> Doc:
        if has_targets(doc):
            return doc
        added = 0
        for start, end, rule in self.find(doc.text):
            overlapping = overlapping_entities(doc.entities, start, end)
            if any(e.label == rule.label and e.start <= start and end <= e.end for e in overlapping):
                continue  # already there, as long or longer
            replaced = [e for e in overlapping if e.label in rule.replaces and start <= e.start and e.end <= end]
            others = [e for e in overlapping if e not in replaced and e.label not in rule.coexists_with]
            if others:
                continue
            if replaced:
                gone = {id(r) for r in replaced}
                doc.entities = [e for e in doc.entities if id(e) not in gone]
            doc.entities.append(Entity(start, end, doc.text[start:end], rule.label, source="rule"))
            added += 1
        if self.nested_drugs is not None:
            drugs = {(e.start, e.end) for e in doc.entities if e.label == DRUG}
            for drug in self.nested_drugs.find(doc):
                if (drug.start, drug.end) not in drugs:
                    doc.entities.append(drug)
                    drugs.add((drug.start, drug.end))
                    added += 1
        if added:
            log.debug("relation mentions: %d added", added)
        return doc
