"""ConText-style assertion: negated, possible, hypothetical, conditional, historical, family.

Triggers, pseudo-triggers and terminators are data (``resources/annotate/context_rules.json``).
All literal phrases are compiled into one prefix-factored regex (plus one group per regex
term), run once per sentence that holds an entity; each trigger's scope is the sentence
part after (forward), before (backward) or around it (bidirectional), cut at the first
terminator of its category and at ``max_words`` words. An entity whose span overlaps a
scope, or contains the trigger, gets the trigger's flag (a group may name the entity labels it
applies to: "possible CT in AM" is a test that may be done, hypothetical, not an uncertain finding); a "within" trigger has no scope
and flags only an entity that contains it ("tobacco use", "drug allergies": habits and
allergy lists are longstanding). Section defaults then add flags for whole sections
(family history -> family; past medical/surgical history -> historical) to entities of the
``section_default_labels``, and every entity gets its section name and section concept id.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from notenlp import regex_cache
from notenlp.annotate.phrases import normalize_phrase, phrase_regex
from notenlp.annotate.start_chars import start_lookahead
from notenlp.doc import Doc, Entity, Span
from notenlp.resources import resource_path

_WORD = re.compile(r"\S+")
FORWARD, BACKWARD, BIDIRECTIONAL, WITHIN = "forward", "backward", "bidirectional", "within"
PSEUDO, TERMINATE = "pseudo", "terminate"
MODIFIER_DIRECTIONS = (FORWARD, BACKWARD, BIDIRECTIONAL, WITHIN)


@dataclass(frozen=True, slots=True)
class Rule:
    category: str
    direction: str
    max_words: int | None = None
    terminates: frozenset[str] = frozenset()
    labels: frozenset[str] | None = None  # None: every label; else only entities of these labels


@dataclass(slots=True)
class Trigger:
    start: int
    end: int
    rules: tuple[Rule, ...]


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


class ConTextRules:
    """The compiled rule set: one regex for every phrase, and phrase -> rules lookups."""

    def __init__(self, data: dict[str, Any]):
        self.flags: dict[str, str] = data["category_flags"]
        self.section_defaults: dict[str, list[str]] = data.get("section_defaults", {})
        # A medication named in a history section is mostly the current treatment ("asthma, on albuterol").
        self.section_default_labels = frozenset(data.get("section_default_labels", data.get("labels", ())))
        # Categories a trigger inside an entity still applies to ("history of asthma" as one entity).
        self.inside_entity_categories = frozenset(data.get("inside_entity_categories", ()))
        overrides = {normalize_phrase(k): frozenset(v) for k, v in data.get("terminate_overrides", {}).items()}
        phrase_rules: dict[str, list[Rule]] = {}
        pattern_rules: list[tuple[str, Rule]] = []
        for group in data["rules"]:
            category = group["category"]
            direction = {"PSEUDO": PSEUDO, "TERMINATE": TERMINATE}.get(category, group.get("direction", FORWARD))
            if direction not in (*MODIFIER_DIRECTIONS, PSEUDO, TERMINATE):
                raise ValueError(f"unknown direction {direction!r} in ConText rules")
            if direction in MODIFIER_DIRECTIONS and category not in self.flags:
                raise ValueError(f"ConText category {category!r} has no flag in category_flags")
            terminates = frozenset(group.get("terminates", ()))
            labels = frozenset(group["labels"]) if "labels" in group else None
            for term in group.get("terms", ()):
                key = normalize_phrase(term)
                stops = overrides.get(key, terminates) if direction == TERMINATE else frozenset()
                rule = Rule(category, direction, group.get("max_words"), stops, labels)
                phrase_rules.setdefault(key, []).append(rule)
            for pattern in group.get("patterns", ()):
                pattern_rules.append((pattern, Rule(category, direction, group.get("max_words"), terminates, labels)))
        self.by_phrase: dict[str, tuple[Rule, ...]] = {}
        for key, rules in phrase_rules.items():
            if any(r.direction == PSEUDO for r in rules):  # a pseudo-trigger never acts as a trigger
                rules = [r for r in rules if r.direction == PSEUDO]
            self.by_phrase[key] = tuple(rules)
        self.pattern_rules = [(rule,) for _, rule in pattern_rules]  # each a trigger's rules
        # Phrases are matched case-sensitively against lower-cased text: several times faster than IGNORECASE.
        self.phrase_regex = regex_cache.compile(phrase_regex(self.by_phrase))
        self.phrase_regex_any_case = regex_cache.compile(self.phrase_regex.pattern, re.IGNORECASE)
        # Regex terms run on the lower-cased text too, except those that look at case ("(?-i:...)", headers in capitals).
        # One shared word-boundary guard in front of all alternatives: mid-word positions then fail at once; then
        # the characters a term can start with, so a word that starts otherwise fails before each alternative's group
        # is entered (re skips an alternative at once only when it starts with a character or class).
        groups: dict[bool, list[str]] = {True: [], False: []}
        for i, (p, _) in enumerate(pattern_rules):
            groups["(?-i:" in p].append(f"(?P<p{i}>{p})")
        self.pattern_regexes = []
        for cased, group in groups.items():
            if group:
                alternatives, flags = "|".join(group), re.IGNORECASE if cased else 0
                starts = start_lookahead(alternatives, flags)
                self.pattern_regexes.append(
                    (regex_cache.compile(rf"(?<!\w){starts}(?:{alternatives})(?!\w)", flags), cased))

    def triggers(self, text: str, start: int, end: int, lowered: str | None = None) -> list[Trigger]:
        """Triggers, pseudo-triggers and terminators in ``text[start:end]``; the longest wins where they overlap.

        ``lowered``: ``text.lower()``, computed once per note by a caller that asks for many sentences."""
        if lowered is None:
            lowered = text.lower()
        if len(lowered) == len(text):
            phrase_matches = self.phrase_regex.finditer(lowered, start, end)
        else:  # a character whose lower case has another length: match the original text instead
            lowered = text
            phrase_matches = self.phrase_regex_any_case.finditer(text, start, end)
        found = []
        by_phrase = self.by_phrase
        for match in phrase_matches:
            phrase = match.group()
            # A phrase written as in the rules (lower case, single spaces) is its own key.
            rules = by_phrase.get(phrase) or by_phrase.get(normalize_phrase(phrase))
            if rules:
                found.append(Trigger(*match.span(), rules))
        for regex, cased in self.pattern_regexes:
            for match in regex.finditer(text if cased else lowered, start, end):
                found.append(Trigger(*match.span(), self.pattern_rules[int(match.lastgroup[1:])]))
        if self.pattern_regexes and len(found) > 1:  # one trigger overlaps nothing
            found = _longest_first(found)
        return found


@lru_cache(maxsize=8)
def compiled_rules(path: str) -> ConTextRules:
    return ConTextRules(_load(path))


class ConText:
    """Sets assertion flags, ``section`` and ``section_concept_id`` on the entities of a doc."""

    def __init__(self, *, rules: str = "annotate/context_rules.json", labels: list[str] | None = None,
                 section_defaults: bool = True):
        self.rules = compiled_rules(str(resource_path(rules)))
        self.labels = frozenset(labels if labels is not None else _load(str(resource_path(rules)))["labels"])
        self.use_section_defaults = section_defaults
        self.section_default_labels = self.labels & self.rules.section_default_labels

    def __call__(self, doc: Doc) -> Doc:
        if not doc.entities:
            return doc
        sentences = doc.sentences or [Span(0, len(doc.text))]
        sentence_starts = [s.start for s in sentences]
        by_sentence: dict[int, list[Entity]] = {}
        for entity in doc.entities:
            index = bisect.bisect_right(sentence_starts, entity.start) - 1
            if index >= 0 and entity.start >= sentences[index].end:
                index = -1
            entity.sentence = index
            if index >= 0 and entity.label in self.labels:
                by_sentence.setdefault(index, []).append(entity)
        lowered = doc.text.lower()
        for index, entities in by_sentence.items():
            self._assert_sentence(doc.text, lowered, sentences[index], entities)
        self._apply_sections(doc)
        return doc

    def _assert_sentence(self, text: str, lowered: str, sentence: Span, entities: list[Entity]) -> None:
        triggers = self.rules.triggers(text, sentence.start, sentence.end, lowered)
        if not triggers:
            return
        modifiers = [(t, r) for t in triggers for r in t.rules if r.direction in MODIFIER_DIRECTIONS]
        if not modifiers:
            return
        terminators = [t for t in triggers if any(r.direction == TERMINATE for r in t.rules)]
        word_starts = word_ends = None  # listed when a rule first counts words
        for trigger, rule in modifiers:
            scopes = []
            if rule.direction in (FORWARD, BIDIRECTIONAL):
                end = sentence.end
                if rule.max_words:
                    if word_starts is None:
                        word_starts = [m.start() for m in _WORD.finditer(text, sentence.start, sentence.end)]
                    first = bisect.bisect_left(word_starts, trigger.end)
                    if first + rule.max_words < len(word_starts):
                        end = word_starts[first + rule.max_words]
                for term in terminators:
                    if term.start >= trigger.end and term.start < end and _stops(term, rule.category):
                        end = term.start
                        break
                scopes.append((trigger.end, end))
            if rule.direction in (BACKWARD, BIDIRECTIONAL):
                start = sentence.start
                if rule.max_words:
                    if word_ends is None:
                        word_ends = [m.end() for m in _WORD.finditer(text, sentence.start, sentence.end)]
                    last = bisect.bisect_right(word_ends, trigger.start)
                    if last - rule.max_words > 0:
                        start = word_ends[last - rule.max_words - 1]
                for term in reversed(terminators):
                    if term.end <= trigger.start and term.end > start and _stops(term, rule.category):
                        start = term.end
                        break
                scopes.append((start, trigger.start))
            flag = self.rules.flags[rule.category]
            inside_applies = rule.direction == WITHIN or rule.category in self.rules.inside_entity_categories
            for entity in entities:
                if rule.labels is not None and entity.label not in rule.labels:
                    continue
                if _in_scope(entity, trigger, scopes) or (
                    inside_applies and entity.start <= trigger.start and trigger.end <= entity.end
                ):
                    setattr(entity, flag, True)

    def _apply_sections(self, doc: Doc) -> None:
        if not doc.sections:
            return
        starts = [s.start for s in doc.sections]
        defaults = self.rules.section_defaults if self.use_section_defaults else {}
        flags_of = [defaults.get(s.name, ()) for s in doc.sections]
        default_labels = self.section_default_labels
        for entity in doc.entities:
            index = bisect.bisect_right(starts, entity.start) - 1
            if index < 0:
                continue
            section = doc.sections[index]
            if entity.start >= section.end:
                continue
            entity.section = section.name
            entity.section_concept_id = section.concept_id
            if flags_of[index] and entity.label in default_labels:
                for flag in flags_of[index]:
                    setattr(entity, flag, True)


def _longest_first(triggers: list[Trigger]) -> list[Trigger]:
    """Drop a trigger overlapped by an earlier or longer one; a "within" trigger inside a terminator is kept:
    "ALCOHOL: two glasses a day" is a header and a habit at once."""
    kept: list[Trigger] = []
    inside_terminators: list[Trigger] = []
    for trigger in sorted(triggers, key=lambda t: (t.start, t.start - t.end)):
        if kept and trigger.start < kept[-1].end:
            if _only(trigger, WITHIN) and _only(kept[-1], TERMINATE):
                inside_terminators.append(trigger)
            continue
        kept.append(trigger)
    if inside_terminators:
        kept = sorted(kept + inside_terminators, key=lambda t: t.start)
    return kept


def _only(trigger: Trigger, direction: str) -> bool:
    return all(rule.direction == direction for rule in trigger.rules)


def _in_scope(entity: Entity, trigger: Trigger, scopes: list[tuple[int, int]]) -> bool:
    """Entity overlaps a scope; one that shares words with a trigger ("no acute" + "acute distress") counts
    when it starts after the trigger does (forward) or ends before it does (backward)."""
    for start, end in scopes:
        if start >= trigger.end:  # forward scope
            if trigger.start < entity.start < end:
                return True
        elif start < entity.end < trigger.end and entity.start < trigger.start:  # backward scope
            return True
    return False


def _stops(terminator: Trigger, category: str) -> bool:
    return any(category in rule.terminates for rule in terminator.rules)
