"""``FindingMentions``: problem mentions of common findings and the problem boundary conventions.

Pipeline factory ``notenlp.annotate.findings:FindingMentions``; config (optional):
``{"rules": "annotate/findings.json"}``. It runs after the NER components (dictionary, model) and
before the relation mentions and ConText. Three steps, in order:

1. model mentions (problems, drugs) lose leading assertion and change cues (``denies rash`` ->
   ``rash``, ``allergic to penicillin`` -> ``penicillin``) and what precedes a 'regarding', a colon or
   a '#' (``Dr. X re vomiting``, ``Chest: vomiting`` -> ``vomiting``); a model mention that lists
   alternatives (``GERD vs pulmonary embolism``) becomes one mention per alternative; a model
   problem mention that names only a site (``bilateral lower extremities``) or that its neighbours
   give another sense (``SpO2 91% RA``: room air) is dropped;
2. common findings of the lexicon (``consolidation``, ``pneumothorax``, ``palpitations``) become
   PROBLEM mentions where nothing else was found, also when a long word of theirs has two
   neighbouring letters swapped (``pleural effsuion``); a finding replaces the shorter PROBLEM or
   TEST mentions it covers (``low blood pressure``, ``elevated potassium``) and model mentions of
   another label (``PTX`` guessed a drug);
3. every PROBLEM mention takes in the site and type words just before it on the same line
   (``productive cough``, ``lower extremity edema``), never course, severity or size.

Dictionary mentions keep their span in step 1 (a vocabulary term is what it says). Mentions that
steps 1 and 2 create have no concept (the normalizer gives them one); a mention extended in step 3
keeps its concept, that of the more general finding it names.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from notenlp import regex_cache
from notenlp.annotate.phrases import phrase_regex
from notenlp.annotate.start_chars import StartCharRegex
from notenlp.annotate.targets import has_targets
from notenlp.attributes import DRUG, PROBLEM, TEST
from notenlp.doc import Doc, Entity, overlapping_entities
from notenlp.resources import file_or_resource

log = logging.getLogger(__name__)

DEFAULT_RULES = "annotate/findings.json"
MODEL_SOURCE = "model"
CLEANED = frozenset({PROBLEM, DRUG})  # model mentions that leading cues are taken off
REPLACEABLE = frozenset({PROBLEM, TEST})  # a finding phrase may hold an analyte: 'elevated potassium'
SEPARATOR = r"[ \t]+"  # words of one mention: same line
TYPO_MIN_LENGTH = 7  # shorter words are too often another real word one swap away
_WORD = re.compile(r"[a-z]+")
_LONG_WORD = re.compile(rf"[a-z]{{{TYPO_MIN_LENGTH},}}")
MODIFIER_WINDOW = 60  # characters before a mention searched for its site and type words


@dataclass(frozen=True)
class FindingRules:
    terms: re.Pattern[str]  # run on the lower-cased text, typos put right
    case_sensitive_terms: StartCharRegex  # few capitals in a note: the engine skips to them
    modifier_before: re.Pattern[str]  # a modifier ending where a mention starts
    leading: re.Pattern[str]
    cut_through: re.Pattern[str]
    differential: re.Pattern[str]
    swapped: dict[str, str]  # a long lexicon word with two neighbouring letters swapped -> the word
    other_senses: dict[str, tuple[re.Pattern[str], re.Pattern[str]]]  # term -> (followed by, preceded by)
    problem_sites: frozenset[str]  # a model PROBLEM mention of these words alone names a place, no problem
    model_other_senses: dict[str, tuple[re.Pattern[str], re.Pattern[str]]]  # as other_senses, for model PROBLEMs

    def spelled(self, text: str) -> str:
        """``text`` lower-cased, with long words of the lexicon written with two neighbouring letters
        swapped ('effsuion', 'hyoptension') put right; same length, so offsets hold."""
        lowered = text.lower()
        if len(lowered) != len(text):
            return text
        pieces, last = [], 0
        for match in _LONG_WORD.finditer(lowered):
            right = self.swapped.get(match.group())
            if right is not None:
                pieces += [lowered[last:match.start()], right]
                last = match.end()
        return "".join(pieces) + lowered[last:] if pieces else lowered

    @classmethod
    def load(cls, rules: str | Path = DEFAULT_RULES) -> "FindingRules":
        data = json.loads(file_or_resource(rules).read_text(encoding="utf-8"))
        modifiers = phrase_regex(data["site_and_type_modifiers"], space=SEPARATOR)
        leading = phrase_regex(data["leading_words"], space=SEPARATOR)
        phrases = [*data["terms"], *data["site_and_type_modifiers"]]
        words = {word for phrase in phrases for word in _WORD.findall(phrase.lower())}
        return cls(
            terms=regex_cache.compile(phrase_regex(data["terms"], space=SEPARATOR)),
            case_sensitive_terms=StartCharRegex(phrase_regex(data["case_sensitive_terms"], space=SEPARATOR,
                                                             casefold=False)),
            modifier_before=re.compile(rf"(?:{modifiers}){SEPARATOR}$", re.IGNORECASE),
            leading=re.compile(rf"(?:{leading})(?:{SEPARATOR}|$)", re.IGNORECASE),
            cut_through=re.compile(rf"(?:{phrase_regex(data['cut_through'])}){SEPARATOR}", re.IGNORECASE),
            differential=re.compile(rf"{SEPARATOR}(?:{phrase_regex(data['differential_separators'])}){SEPARATOR}",
                                    re.IGNORECASE),
            swapped=_swaps(words),
            other_senses=_senses(data.get("other_senses", ())),
            problem_sites=frozenset(data.get("model_problem_sites", ())),
            model_other_senses=_senses(data.get("model_problem_other_senses", ())),
        )

    def other_sense(self, spelled: str, start: int, end: int,
                    senses: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] | None = None) -> bool:
        """True when the words around a term match give it another sense than the finding."""
        patterns = (self.other_senses if senses is None else senses).get(" ".join(spelled[start:end].split()))
        if patterns is None:
            return False
        followed_by, preceded_by = patterns
        return bool(followed_by.match(spelled, end) or preceded_by.search(spelled, max(0, start - 30), start))


    def no_problem(self, spelled: str, start: int, end: int) -> bool:
        """True for a model PROBLEM mention that names only a site ('bilateral lower extremities') or
        that its neighbours give a sense that is no problem ('SpO2 91% RA')."""
        words = _WORD.findall(spelled, start, end)
        if words and all(w in self.problem_sites for w in words):
            return True
        return self.other_sense(spelled, start, end, self.model_other_senses)


def _senses(entries) -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    """term -> (what follows it, what precedes it) for the other senses of the rules file."""
    return {term: (re.compile(rf"[ \t-]+{sense['followed_by']}(?!\w)"),
                   re.compile(rf"(?<!\w){sense['preceded_by']}[ \t]+$"))
            for sense in entries for term in sense["terms"]}


def _swaps(words: set[str]) -> dict[str, str]:
    """Each long word with two neighbouring letters swapped, the commonest typing slip; never a
    spelling that is itself a lexicon word or the swap of two words."""
    swapped: dict[str, str] = {}
    ambiguous: set[str] = set()
    for word in words:
        if len(word) < TYPO_MIN_LENGTH:
            continue
        for i in range(len(word) - 1):
            typo = word[:i] + word[i + 1] + word[i] + word[i + 2:]
            if typo == word or typo in words:
                continue
            if swapped.get(typo, word) != word:
                ambiguous.add(typo)
            swapped[typo] = word
    return {typo: word for typo, word in swapped.items() if typo not in ambiguous}


def _problem(doc: Doc, start: int, end: int, source: str) -> Entity:
    return Entity(start, end, doc.text[start:end], PROBLEM, source=source)


class FindingMentions:
    """Adds common findings as PROBLEM mentions and applies the problem boundary conventions of
    ``resources/annotate/findings.json``; docs with fixed targets pass through."""

    def __init__(self, *, rules: str = DEFAULT_RULES):
        self.rules = FindingRules.load(rules)

    def __call__(self, doc: Doc) -> Doc:
        if has_targets(doc):
            return doc
        spelled = self.rules.spelled(doc.text)
        doc.entities = [part for e in doc.entities for part in self.clean_model_mention(doc, e)
                        if part.label != PROBLEM or part.source != MODEL_SOURCE
                        or not self.rules.no_problem(spelled, part.start, part.end)]
        added = self.add_terms(doc, spelled)
        extended = sum(self.extend(doc, e, spelled) for e in doc.entities if e.label == PROBLEM)
        if added or extended:
            log.debug("finding mentions: %d added, %d extended", added, extended)
        return doc

    def clean_model_mention(self, doc: Doc, entity: Entity) -> list[Entity]:
        """A model problem or drug mention without leading cues, split at listed alternatives."""
        if entity.label not in CLEANED or entity.source != MODEL_SOURCE:
            return [entity]
        text = doc.text[entity.start:entity.end]
        start = 0
        for match in self.rules.cut_through.finditer(text):
            start = match.end()
        bounds, piece_start = [], start
        for match in self.rules.differential.finditer(text, start):
            bounds.append((piece_start, match.start()))
            piece_start = match.end()
        bounds.append((piece_start, len(text)))
        parts = []
        for s, e in bounds:
            while match := self.rules.leading.match(text, s, e):
                s = match.end()
            if s >= e:
                continue
            if (s, e) == (0, len(text)):
                parts.append(entity)
            else:
                start, end = entity.start + s, entity.start + e
                parts.append(Entity(start, end, doc.text[start:end], entity.label, source=MODEL_SOURCE))
        return parts

    def add_terms(self, doc: Doc, spelled: str) -> int:
        matches = [m.span() for m in self.rules.case_sensitive_terms.finditer(doc.text)]
        if len(doc.text.lower()) == len(doc.text):  # else lower-casing moved offsets: exact-case hits only
            matches += [m.span() for m in self.rules.terms.finditer(spelled)
                        if not self.rules.other_sense(spelled, *m.span())]
        added = 0
        for start, end in sorted(matches, key=lambda span: (span[0] - span[1], span[0])):
            overlapping = overlapping_entities(doc.entities, start, end)
            if any(not self.replaceable(e, start, end) for e in overlapping):
                continue  # what entity recognition found, as long or longer, or of another label, wins
            if overlapping:
                replaced = {id(o) for o in overlapping}
                doc.entities = [e for e in doc.entities if id(e) not in replaced]
            doc.entities.append(_problem(doc, start, end, "rule"))
            added += 1
        doc.entities.sort(key=lambda e: (e.start, e.end))
        return added

    @staticmethod
    def replaceable(entity: Entity, start: int, end: int) -> bool:
        """A finding term covering ``entity`` replaces it when ``entity`` is a shorter problem or test
        mention, or any mention the statistical model guessed (a curated term is the surer of the two)."""
        if (entity.start, entity.end) == (start, end) and entity.label == PROBLEM:
            return False
        covered = start <= entity.start and entity.end <= end
        return covered and (entity.label in REPLACEABLE or entity.source == MODEL_SOURCE)

    def extend(self, doc: Doc, entity: Entity, spelled: str) -> bool:
        """Take in the site and type words just before ``entity`` not held by another mention."""
        line_start = max(doc.text.rfind("\n", 0, entity.start) + 1, entity.start - MODIFIER_WINDOW)
        start = entity.start
        while match := self.rules.modifier_before.search(spelled, line_start, start):
            if overlapping_entities(doc.entities, match.start(), start):
                break
            start = match.start()
        if start == entity.start:
            return False
        entity.start, entity.text = start, doc.text[start:entity.end]
        return True
