"""Token features for the CRF, computed once per word form and cached.

Everything that depends only on the word form (lowercase, shape, affixes, ending groups)
is built once and kept per form for each window position, so tagging a note costs a few
list concatenations per token plus the sentence-level bigram and gazetteer features.
"""

from __future__ import annotations


import json
import string
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby, repeat

from notenlp.resources import resource_path

WINDOW_OFFSETS = (-2, -1, 1, 2)
# "<domain>@<feature>": a training sentence of a domain (a corpus's annotation convention) carries
# a copy of each feature conjoined with the domain (Daume III, "Frustratingly easy domain
# adaptation", ACL 2007), so the shared weights learn what the corpora agree on and the domain
# copies what one convention adds (BC5CDR tags symptoms, NCBI does not, ADE tags whole
# adverse-effect phrases). The tagger adds the copies of the domain it is asked for.
DOMAIN_MARK = "@"
# Condition-vocabulary word pair with the token before / after: "<prefix><band>"
PAIR_BEFORE, PAIR_AFTER = "pb-=", "pb+="
GAZETTEER_MAX_TOKENS = 8
_CACHE_LIMIT = 300_000
# ASCII letters and digits to x/X/d, other ASCII characters to "."; the rest are "u" (word_shape).
_SHAPE_TABLE = str.maketrans({chr(c): "x" if chr(c) in string.ascii_lowercase else "X" if chr(c) in string.ascii_uppercase
                              else "d" if chr(c) in string.digits else "." for c in range(128)})
# Features of a word that its neighbours see as well (at +-1; at +-2 only the first, the word itself).
CONTEXT_PREFIXES = ("w=", "sh", "s3", "g=", "k0", "k1", "lx", "mo", "dn")
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "kappa", "lambda", "mu", "omega", "sigma", "theta"}


def load_suffix_groups(path: str = "ner/features.json") -> dict[str, list[str]]:
    return json.loads(resource_path(path).read_text(encoding="utf-8"))["suffix_groups"]


def word_shape(word: str) -> str:
    shape = word.translate(_SHAPE_TABLE)
    return shape if shape.isascii() else "".join(c if c.isascii() else "u" for c in shape)


def context_features(feats: Sequence[str]) -> list[str]:
    """The word features (in order) that the window positions around the word carry."""
    return [f for f in feats if f[:2] in CONTEXT_PREFIXES]


class FeatureExtractor:
    """Turns a token sequence into CRFsuite attribute lists; caches per word form."""

    def __init__(self, suffix_groups: dict[str, list[str]], gazetteer: dict[tuple[str, ...], str] | None = None,
                 clusters: dict[str, list[int]] | None = None, lexicon: dict[str, int] | None = None,
                 morphology: Callable[[str], str | None] | None = None, pairs: dict[str, int] | None = None,
                 drug_names: Iterable[str] = ()):
        """``lexicon``: lowercased word -> band of its frequency in a condition vocabulary
        (:func:`notenlp.ner.lexicon.icd10cm_word_bands`); ``morphology``: word -> what its
        spelling says about its label (:mod:`notenlp.ner.morphology`), None for nothing;
        ``pairs``: "first second" lowercased word pair -> band of its frequency in the condition
        vocabulary (:func:`notenlp.ner.lexicon.icd10cm_pair_bands`); ``drug_names``: lowercase
        one-word drug names (:func:`notenlp.ner.lexicon.drug_name_words`)."""
        self.suffix_groups = {group: tuple(sorted(set(endings), key=len, reverse=True))
                              for group, endings in suffix_groups.items()}
        self.gazetteer = gazetteer or {}
        self.clusters = clusters or {}
        self.lexicon = lexicon or {}
        self.morphology = morphology
        self.drug_names = frozenset(drug_names)
        self.pairs = {tuple(pair.split(" ")): band for pair, band in (pairs or {}).items()}
        lengths: dict[str, set[int]] = {}
        for key in self.gazetteer:
            lengths.setdefault(key[0], set()).add(len(key))
        # first token -> lengths of the entries starting with it, longest first
        self.gazetteer_first = {first: sorted(found, reverse=True) for first, found in lengths.items()}
        self._cache: dict[str, tuple[list[str], ...]] = {}

    def word_features(self, word: str) -> list[str]:
        lower = word.lower()
        shape = word_shape(word)
        short_shape = "".join(c for c, _ in groupby(shape))  # runs collapsed: "Xxxxdd" -> "Xxd"
        feats = [f"w={lower}", f"sh={shape}", f"ss={short_shape}"]
        if len(word) > 2:
            n = len(lower)
            feats.extend(f"p{k}={lower[:k]}" for k in range(2, min(5, n - 1) + 1))
            feats.extend(f"s{k}={lower[-k:]}" for k in range(2, min(5, n - 1) + 1))
        if word[0].isupper():
            feats.append("title" if word[1:].islower() else ("upper" if word.isupper() else "cap"))
        if word.isdigit():
            feats.append("digits" if len(word) < 4 else "longdigits")
        elif any(c.isdigit() for c in word):
            feats.append("alnum")
        if not word[0].isalnum():
            feats.append(f"punct={word}")
        if lower in _GREEK:
            feats.append("greek")
        if len(word) > 3 and word.isalpha():
            for group, endings in self.suffix_groups.items():
                if lower.endswith(endings):
                    feats.append(f"g={group}")
        feats.extend(f"k{level}={cluster}" for level, cluster in enumerate(self.clusters.get(lower, ())))
        band = self.lexicon.get(lower)
        if band is not None:
            feats.append(f"lx={band}")
        if lower in self.drug_names:
            feats.append("dn")
        if self.morphology is not None:
            spelled = self.morphology(word)
            if spelled is not None:
                feats.append(f"mo={spelled}")
        feats.append(f"len={min(len(word), 12) // 3}")
        return feats

    def _views(self, word: str) -> tuple[list[str], ...]:
        views = self._cache.get(word)
        if views is None:
            feats = self.word_features(word)
            context = context_features(feats)
            views = (feats, *([f"{k}:{f}" for f in (context if abs(k) == 1 else context[:1])] for k in WINDOW_OFFSETS))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = views
        return views

    def gazetteer_tags(self, lowers: Sequence[str]) -> list[str | None]:
        """Longest-match BIO tags of the gazetteer over the token sequence."""
        tags: list[str | None] = [None] * len(lowers)
        for i, length, label in self.gazetteer_matches(lowers):
            tags[i] = f"B-{label}"
            for j in range(i + 1, i + length):
                tags[j] = f"I-{label}"
        return tags

    def gazetteer_matches(self, lowers: Sequence[str], starts: Sequence[int] | None = None,
                          ends: Sequence[int] | None = None) -> list[tuple[int, int, str]]:
        """(first token, tokens, label) of the gazetteer entries found left to right, longest first.

        ``starts``: the ascending positions that may open an entry (default: every token that
        does); ``ends``: for each, the position a match may not run past (default: the end)."""
        first = self.gazetteer_first
        if not first:
            return []
        if starts is None:
            starts = [i for i, lower in enumerate(lowers) if lower in first]
        gaz, cursor = self.gazetteer, 0
        found = []
        for i, end in zip(starts, ends if ends is not None else repeat(len(lowers))):
            if i < cursor:
                continue
            for length in first[lowers[i]]:
                if i + length > end:
                    continue
                label = gaz.get(tuple(lowers[i:i + length]))
                if label is not None:
                    found.append((i, length, label))
                    cursor = i + length
                    break
        return found

    def sequence(self, words: Sequence[str], domain: str | None = None) -> list[list[str]]:
        """Attribute lists of the tokens; with ``domain``, each also carries its domain copies."""
        out = self._sequence(words)
        if domain:
            prefix = f"{domain}{DOMAIN_MARK}"
            out = [feats + [prefix + f for f in feats] for feats in out]
        return out

    def _sequence(self, words: Sequence[str]) -> list[list[str]]:
        n = len(words)
        views = [self._views(w) for w in words]
        lowers = [w.lower() for w in words]
        gaz = self.gazetteer_tags(lowers)
        pairs = self.pairs
        out: list[list[str]] = []
        for i in range(n):
            feats = ["bias", *views[i][0]]
            for slot, k in enumerate(WINDOW_OFFSETS, start=1):
                j = i + k
                if 0 <= j < n:
                    feats.extend(views[j][slot])
                elif k in (-1, 1):
                    feats.append("BOS" if k < 0 else "EOS")
            if i > 0:
                feats.append(f"bg-={lowers[i - 1]}|{lowers[i]}")
            if i + 1 < n:
                feats.append(f"bg+={lowers[i]}|{lowers[i + 1]}")
            band = pairs.get((lowers[i - 1], lowers[i])) if i > 0 else None
            if band is not None:
                feats.append(f"{PAIR_BEFORE}{band}")
            band = pairs.get((lowers[i], lowers[i + 1])) if i + 1 < n else None
            if band is not None:
                feats.append(f"{PAIR_AFTER}{band}")
            if gaz[i] is not None:
                feats.append(f"gz={gaz[i]}")
            if i > 0 and gaz[i - 1] is not None:
                feats.append(f"-1:gz={gaz[i - 1]}")
            if i + 1 < n and gaz[i + 1] is not None:
                feats.append(f"1:gz={gaz[i + 1]}")
            out.append(feats)
        return out


def build_gazetteer(mentions: Iterable[tuple[tuple[str, ...], str]], min_count: int = 1) -> dict[tuple[str, ...], str]:
    """Lowercased token tuple -> most frequent label, from (tokens, label) mention pairs."""
    counts: dict[tuple[str, ...], dict[str, int]] = {}
    for tokens, label in mentions:
        if not tokens or len(tokens) > GAZETTEER_MAX_TOKENS:
            continue
        key = tuple(t.lower() for t in tokens)
        by_label = counts.setdefault(key, {})
        by_label[label] = by_label.get(label, 0) + 1
    gazetteer = {}
    for key, by_label in counts.items():
        label, count = max(by_label.items(), key=lambda kv: kv[1])
        if count >= min_count and not (len(key) == 1 and len(key[0]) < 2):
            gazetteer[key] = label
    return gazetteer
