"""Candidate pairs and their features.

A pair is a candidate when both mentions lie in the same sentence or on the same line (so a
medication-list line that the sentence splitter cut in two still pairs up). Features are
sparse ``name -> 1.0`` dicts: words and bigrams between the mentions, distance, the labels and
their order, cue words (``resources/relations/rules.json``) between, around, before the head and in
the sentence, dependency-free shapes ('X-induced Y'), whether another drug or problem sits nearer,
the problem's words, and the assertion flags.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from notenlp.attributes import ASSERTION_FLAGS, DRUG, MEDICATION_ATTRIBUTES, RELATION_TYPES
from notenlp.doc import Doc, Entity, Span

TOKEN = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*|[^\sA-Za-z\d]")
WINDOW_CHARS = 40  # text searched for the three words before / after the pair
NEAR_TOKENS = 12  # up to this many words between the mentions, every word and bigram is a feature
EDGE_TOKENS = 6  # beyond it, only this many words at each end
_DIGIT_OR_NON_ASCII = re.compile(r"[0-9\x80-\U0010ffff]")  # str.isdigit() holds for no other character
_SENTENCE_FALLBACK = re.compile(r"[^\n]+?(?:[.!?](?=\s)|(?=\n)|$)")

# (head label, tail label) -> the relation types whose signature admits it.
ADMISSIBLE: dict[tuple[str, str], tuple[str, ...]] = {}
for _type, (_heads, _tails) in RELATION_TYPES.items():
    for _head in _heads:
        for _tail in _tails:
            ADMISSIBLE.setdefault((_head, _tail), ())
            ADMISSIBLE[(_head, _tail)] += (_type,)


def fallback_sentences(text: str) -> list[Span]:
    """Lines cut at sentence-final punctuation; used only when no sentence splitter ran."""
    return [Span(m.start(), m.end()) for m in _SENTENCE_FALLBACK.finditer(text) if m.group().strip()]


def entity_keys(doc: Doc) -> list[int]:
    """The id each relation end must carry so that ``Doc.finalize`` maps it onto the right entity.

    ``finalize`` keys entities by ``id`` when set and by list position otherwise; when those keys
    clash (mixed ids) and no relation refers to them yet, ids are reset to positions.
    """
    keys = [e.id if e.id >= 0 else i for i, e in enumerate(doc.entities)]
    if len(set(keys)) != len(keys) and not doc.relations:
        for i, entity in enumerate(doc.entities):
            entity.id = i
        keys = list(range(len(doc.entities)))
    return keys


@dataclass(slots=True)
class Context:
    """Per-document lookups built once: lower-cased text, sentence and line of every entity."""

    doc: Doc
    lower: str
    sentence_of: list[int]
    line_of: list[int]  # line number on a list line, else a key no other entity shares
    sentence_cues: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # filled as pairs need them
    scope_of: list[tuple[str, int]] = field(default_factory=list)  # every mention's scope key (see scope_members)
    members: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # scope key -> mentions
    labelled: dict[tuple[tuple[str, int], str], list[int]] = field(default_factory=dict)  # (scope key, label) -> mentions
    starts: list[int] = field(default_factory=list)  # entity starts, ascending
    by_start: list[tuple[int, str]] = field(default_factory=list)  # (end, label) in the order of ``starts``
    windows: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # tokens of the text spans pairs asked for
    mention_features: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)  # (part, mention) -> its features

    @classmethod
    def build(cls, doc: Doc, list_line: re.Pattern[str] | None = None, drug_first: bool = False) -> "Context":
        """``list_line`` matches the lines that form one scope on their own (list items); with
        ``drug_first`` so does a line that starts with a DRUG mention and holds a medication attribute."""
        text = doc.text
        sentences = doc.sentences or fallback_sentences(text)
        sentence_starts = [s.start for s in sentences]
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        sentence_of, line_of, scope_of = [], [], []
        is_list: dict[int, bool] = {}
        if drug_first:  # a line that starts with a drug and carries a medication attribute is a list item
            with_attribute = {bisect.bisect_right(line_starts, e.start) - 1 for e in doc.entities
                              if e.label in MEDICATION_ATTRIBUTES}
            for entity in doc.entities:
                if entity.label == DRUG:
                    line = bisect.bisect_right(line_starts, entity.start) - 1
                    if line in with_attribute and not text[line_starts[line]:entity.start].strip(" \t0123456789.)-*#"):
                        is_list[line] = True
        members: dict[tuple[str, int], list[int]] = {}
        labelled: dict[tuple[tuple[str, int], str], list[int]] = {}
        for k, entity in enumerate(doc.entities):
            i = bisect.bisect_right(sentence_starts, entity.start) - 1
            line = bisect.bisect_right(line_starts, entity.start) - 1
            inside = i >= 0 and entity.start < sentences[i].end
            sentence_of.append(i if inside else -2 - line)
            if line not in is_list:
                is_list[line] = list_line is not None and list_line.match(text, line_starts[line]) is not None
            line_of.append(line if is_list[line] else -2 - entity.start)  # a unique key: no line-wide scope
            # Two mentions share a scope when they sit on the same list line, or in the same sentence when
            # neither sits on a list line: an equivalence, keyed by the list line, else by the sentence.
            scope = ("line", line) if is_list[line] else ("sentence", sentence_of[-1])
            scope_of.append(scope)
            members.setdefault(scope, []).append(k)
            labelled.setdefault((scope, entity.label), []).append(k)
        ordered = sorted((e.start, e.end, e.label) for e in doc.entities)
        return cls(doc, text.lower(), sentence_of, line_of, scope_of=scope_of, members=members, labelled=labelled,
                   starts=[start for start, _, _ in ordered], by_start=[(end, label) for _, end, label in ordered])

    def labels_between(self, start: int, end: int) -> list[str]:
        """Labels of the mentions lying within [start, end)."""
        labels = []
        for k in range(bisect.bisect_left(self.starts, start), len(self.starts)):
            if self.starts[k] > end:
                break
            if self.by_start[k][0] <= end:
                labels.append(self.by_start[k][1])
        return labels

    def scope_members(self, i: int, label: str | None = None) -> list[int]:
        """Indices of the mentions (of ``label``, if given) that share a scope with mention ``i`` (itself
        included when its label fits), in order. The list is shared: do not modify it."""
        if label is None:
            return self.members[self.scope_of[i]]
        return self.labelled.get((self.scope_of[i], label), [])

    def sentence_span(self, i: int) -> tuple[int, int]:
        """Offsets of the sentence (or fallback line) that holds entity ``i``."""
        entity = self.doc.entities[i]
        k = self.sentence_of[i]
        if k >= 0 and self.doc.sentences:
            return self.doc.sentences[k].start, self.doc.sentences[k].end
        start = self.lower.rfind("\n", 0, entity.start) + 1
        end = self.lower.find("\n", entity.end)
        return start, end if end >= 0 else len(self.lower)

    def tokens(self, start: int, end: int) -> list[str]:
        """Lower-cased tokens of text[start:end], numbers as ``<num>`` (only the text a pair needs is tokenized,
        once per note: the windows around a mention recur in all its pairs). The list is shared: do not modify it."""
        start = max(0, start)
        tokens = self.windows.get((start, end))
        if tokens is None:
            tokens = self.windows[(start, end)] = TOKEN.findall(self.lower, start, end)
            if _DIGIT_OR_NON_ASCII.search(self.lower, start, end):  # else no token can start with a digit
                tokens[:] = [t if not t[0].isdigit() else "<num>" for t in tokens]
        return tokens


def candidate_pairs(ctx: Context, heads: set[str], tails: set[str]) -> Iterator[tuple[int, int]]:
    """(head index, tail index) pairs whose labels fit a relation signature and share a scope."""
    entities = ctx.doc.entities
    for i, head in enumerate(entities):
        if head.label not in heads:
            continue
        for j in ctx.scope_members(i):
            if i != j and entities[j].label in tails and (head.label, entities[j].label) in ADMISSIBLE:
                yield i, j


def overlapping(a: Entity, b: Entity) -> bool:
    """Whether two mentions share characters (a drug nested in a problem: 'lithium toxicity')."""
    return a.start < b.end and b.start < a.end


def _gap(a: Entity, b: Entity) -> int:
    """Characters between two mentions (0 when they touch or overlap)."""
    return max(a.start - b.end, b.start - a.end, 0)


@functools.lru_cache(maxsize=1024)  # a few small counts recur in every pair
def _bucket(n: int, edges: Sequence[int] = (0, 1, 2, 3, 5, 8, 12, 20)) -> str:
    """The smallest edge at least ``n`` (``edges`` ascending), else '>' the last."""
    k = bisect.bisect_left(edges, n)
    return str(edges[k]) if k < len(edges) else f">{edges[-1]}"


class FeatureExtractor:
    """Turns a candidate pair into sparse features; cue phrases and list lines come from the rules file."""

    def __init__(self, rules: dict[str, Any]):
        self.list_line = re.compile(rules["list_line"]["pattern"], re.MULTILINE)
        self.drug_first = bool(rules["list_line"].get("drug_first", False))
        triggers: dict[str, list[str]] = rules["triggers"]
        self.triggers: dict[tuple[str, ...], list[str]] = {}
        for group, phrases in triggers.items():
            if group.startswith("_"):
                continue
            for phrase in phrases:
                key = tuple(t.lower() for t in TOKEN.findall(phrase))
                self.triggers.setdefault(key, []).append(group)
        # A token -> the lengths of the triggers it starts, shortest first: the only phrases worth looking up.
        lengths: dict[str, set[int]] = {}
        for key in self.triggers:
            lengths.setdefault(key[0], set()).add(len(key))
        self.trigger_lengths = {token: sorted(n) for token, n in lengths.items()}
        # The cues a trigger adds, in the order they were always added: 'group:phrase' for each group, then the groups.
        self.trigger_cues = {key: [f"{g}:{' '.join(key)}" for g in groups] + groups
                             for key, groups in self.triggers.items()}
        self.glued_cue = re.compile(rules["glued_cue_pattern"], re.IGNORECASE)

    def context(self, doc: Doc) -> Context:
        return Context.build(doc, self.list_line, self.drug_first)

    def _cues(self, tokens: Sequence[str]) -> set[str]:
        found: set[str] = set()
        lengths_of, cues_of = self.trigger_lengths, self.trigger_cues
        for a, token in enumerate(tokens):
            lengths = lengths_of.get(token)
            if lengths is not None:
                for n in lengths:
                    cues = cues_of.get(tuple(tokens[a:a + n]))
                    if cues:
                        found.update(cues)
        return found

    def features(self, ctx: Context, i: int, j: int) -> dict[str, float]:
        entities = ctx.doc.entities
        head, tail = entities[i], entities[j]
        first, second = (head, tail) if head.start <= tail.start else (tail, head)
        order = "head_first" if first is head else "tail_first"
        between = ctx.tokens(first.end, second.start)
        f: dict[str, float] = {
            f"labels={head.label}>{tail.label}": 1.0,
            f"order={order}": 1.0,
            f"dist={_bucket(len(between))}": 1.0,
            f"scope={'sentence' if ctx.sentence_of[i] == ctx.sentence_of[j] else 'line'}": 1.0,
        }
        f.update(self._competition(ctx, i, j))
        inside = ctx.labels_between(first.end, second.start)
        f[f"ents_between={_bucket(len(inside), (0, 1, 2))}"] = 1.0
        for label in set(inside):
            f[f"between_label={label}"] = 1.0
        if len(between) > NEAR_TOKENS:  # far apart: the words next to each mention, no bigrams
            for token in between[:EDGE_TOKENS] + between[-EDGE_TOKENS:]:
                f[f"bw_far={token}"] = 1.0
        else:
            for k, token in enumerate(between):
                f[f"bw={token}"] = 1.0
                if k + 1 < len(between):
                    f[f"bb={token}_{between[k + 1]}"] = 1.0
        if between:
            f[f"first_between={between[0]}"] = 1.0
            f[f"last_between={between[-1]}"] = 1.0
        else:
            f["adjacent"] = 1.0
        before = ctx.tokens(first.start - WINDOW_CHARS, first.start)[-3:]
        after = ctx.tokens(second.end, second.end + WINDOW_CHARS)[:3]
        for token in before:
            f[f"before={token}"] = 1.0
        for token in after:
            f[f"after={token}"] = 1.0
        for cue in self._cues(between):
            f[f"cue_between={cue}"] = 1.0
            if ":" not in cue:  # a cue group means different things before and after the drug
                f[f"cue_between_{order}={cue}"] = 1.0
        f.update(self._pattern(ctx, i, order))
        for cue in self._cues(before + after):
            f[f"cue_around={cue}"] = 1.0
        f.update(self._mention(ctx, "head", i))
        f.update(self._mention(ctx, "tail", j))
        f.update(self._head_context(ctx, i))
        return f

    def _mention(self, ctx: Context, role: str, k: int) -> dict[str, float]:
        """The features of mention ``k`` as the pair's ``role`` ('head' or 'tail'): the same in all its pairs,
        so built once per note."""
        features = ctx.mention_features.get((role, k))
        if features is None:
            entity = ctx.doc.entities[k]
            features = ctx.mention_features[(role, k)] = {}
            words = ctx.tokens(entity.start, entity.end)
            if words:
                features[f"{role}_last={words[-1]}"] = 1.0
            if role == "tail":  # what a problem is says whether it is an adverse event or an indication
                for word in words:
                    features[f"tail_word={word}"] = 1.0
            for flag in ASSERTION_FLAGS:
                if getattr(entity, flag):
                    features[f"{role}_{flag}"] = 1.0
        return features

    def _head_context(self, ctx: Context, i: int) -> dict[str, float]:
        """The section of head ``i`` and the cue groups of its sentence, built once per head and note."""
        features = ctx.mention_features.get(("context", i))
        if features is None:
            features = ctx.mention_features[("context", i)] = {}
            section = ctx.doc.entities[i].section
            if section:
                features[f"section={section}"] = 1.0
            sentence = ctx.sentence_span(i)
            if sentence not in ctx.sentence_cues:
                cues = self._cues(ctx.tokens(*sentence))
                ctx.sentence_cues[sentence] = [f"cue_sentence={c}" for c in cues if ":" not in c]
            features.update(dict.fromkeys(ctx.sentence_cues[sentence], 1.0))
        return features

    @staticmethod
    def _competition(ctx: Context, i: int, j: int) -> dict[str, float]:
        """Whether another mention of the head's (tail's) label sits nearer the tail (head), and how many there are."""
        entities = ctx.doc.entities
        head, tail = entities[i], entities[j]
        heads = ctx.scope_members(i, head.label)  # the pair shares i's scope; i is among them
        tails = ctx.scope_members(i, tail.label)
        distance = _gap(head, tail)
        return {
            f"head_nearest={all(_gap(entities[k], tail) >= distance for k in heads if k != i)}": 1.0,
            f"tail_nearest={all(_gap(head, entities[k]) >= distance for k in tails if k != j)}": 1.0,
            f"n_heads={_bucket(len(heads) - 1, (0, 1, 2))}": 1.0,
            f"n_tails={_bucket(len(tails) - (j in tails), (0, 1, 2, 4))}": 1.0,
        }

    def _pattern(self, ctx: Context, i: int, order: str) -> dict[str, float]:
        """Dependency-free shapes: 'X-induced Y' (the head glued to a cue word), 'Y after/due to X' (the
        cue right before the head), 'Y ... X' with the drug inside parentheses. They depend on the head
        ``i`` and the order only: built once per head, order and note."""
        f = ctx.mention_features.get((order, i))
        if f is not None:
            return f
        f = ctx.mention_features[(order, i)] = {}
        head = ctx.doc.entities[i]
        text = ctx.lower
        glued = self.glued_cue.match(text, head.end)
        if glued:
            f[f"head_glued={glued.group(1)}_{order}"] = 1.0
        before_head = ctx.tokens(head.start - 25, head.start)[-3:]
        for n in (1, 2, 3):
            phrase = tuple(before_head[-n:])
            if len(phrase) == n and phrase in self.triggers:
                for group in self.triggers[phrase]:
                    f[f"cue_before_head={group}_{order}"] = 1.0
        if text[max(0, head.start - 2):head.start].strip() == "(" and order == "tail_first":
            f["head_in_parentheses_after_tail"] = 1.0
        return f
