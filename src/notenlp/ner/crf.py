"""Fast tagging with a CRFsuite model: emission scores in NumPy, Viterbi in CRFsuite.

A CRF's emission score is a sum of attribute weights, and most attributes depend only on
one word form at one window position. Those sums are computed once per word form and kept
in a table, so scoring a note is a few array lookups instead of building ~25 feature
strings per token. CRFsuite then decodes from a handful of weighted "basis" attributes
per token whose values reproduce those scores exactly (up to the 6-digit weight dump).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from notenlp.ner.features import DOMAIN_MARK, WINDOW_OFFSETS, FeatureExtractor

_CACHE_LIMIT = 300_000
_SEPARATOR_MARGIN = 50.0


class CompiledCRF:
    def __init__(self, model_bytes: bytes, extractor: FeatureExtractor, domain: str | None = None):
        """``domain``: whose domain-conjoined weights (``<domain>@<attribute>``) are added to the
        shared ones, folded into one table so that tagging costs the same as without domains."""
        import pycrfsuite

        self.tagger = pycrfsuite.Tagger()
        self.tagger.open_inmemory(model_bytes)
        info = self.tagger.info()
        tags = self.tagger.labels()
        attributes, weights = weight_table(fold_domain(info.state_features, None), tags)
        # CRFsuite scores the basis attributes with their own (shared) weights.
        self.basis, self.basis_inverse = choose_basis(attributes, weights)
        if domain:
            attributes, weights = weight_table(fold_domain(info.state_features, domain), tags)
        row_of = {a: i for i, a in enumerate(attributes)}
        # Between sentences: a token scored so that only "O" is possible.
        separator = np.full(len(tags), -_SEPARATOR_MARGIN)
        separator[tags.index("O")] = 0.0
        self.separator_values = (separator @ self.basis_inverse).tolist()
        self.tags = tags
        self.extractor = extractor
        self.weights = weights
        self.attribute_row = row_of
        size = len(tags)
        zero = np.zeros(size)
        row = self._row
        self.bias = row("bias")
        self.boundary = {-1: row("BOS"), 1: row("EOS")}
        # "a|b" -> (weights for the token b, weights for the token a)
        self.bigrams: dict[str, tuple[np.ndarray | None, np.ndarray | None]] = {}
        for attribute, i in self.attribute_row.items():
            if attribute[:4] in ("bg-=", "bg+="):
                right, left = self.bigrams.get(attribute[4:], (None, None))
                if attribute[2] == "-":
                    right = self.weights[i]
                else:
                    left = self.weights[i]
                self.bigrams[attribute[4:]] = (right, left)
        gazetteer_tags = sorted({f"{p}-{label}" for label in set(extractor.gazetteer.values()) for p in "BI"})
        self.gazetteer_id = {t: i + 1 for i, t in enumerate(gazetteer_tags)}
        self.gazetteer_rows = {
            prefix: np.vstack([zero, *(row(f"{prefix}gz={t}") for t in gazetteer_tags)])
            for prefix in ("", "-1:", "1:")
        }
        self._word_id: dict[str, int] = {}
        self._views = np.zeros((1024, 1 + len(WINDOW_OFFSETS), size))

    def _row(self, attribute: str) -> np.ndarray:
        i = self.attribute_row.get(attribute)
        return self.weights[i] if i is not None else np.zeros(len(self.tags))

    def _word(self, word: str) -> int:
        """Row of the per-word-form emission table (filled on first sight)."""
        index = self._word_id.get(word)
        if index is not None:
            return index
        if len(self._word_id) >= _CACHE_LIMIT:
            self._word_id.clear()
        index = len(self._word_id)
        if index >= len(self._views):
            grown = np.zeros((len(self._views) * 2, *self._views.shape[1:]))
            grown[: len(self._views)] = self._views
            self._views = grown
        rows = self.attribute_row
        views = self.extractor._views(word)
        for slot, attributes in enumerate(views):
            hits = [rows[a] for a in attributes if a in rows]
            self._views[index, slot] = self.weights[hits].sum(axis=0) if hits else 0.0
        self._word_id[word] = index
        return index

    def emissions(self, sentences: Sequence[Sequence[str]]) -> np.ndarray:
        """(tokens, tags) emission scores of all tokens of the sentences, concatenated."""
        words = [w for sentence in sentences for w in sentence]
        n = len(words)
        known = self._word_id
        ids = np.array([known.get(w) if w in known else self._word(w) for w in words], dtype=np.int64)
        sentence_of = np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])
        views = self._views
        scores = views[ids, 0] + self.bias
        positions = np.arange(n)
        for slot, k in enumerate(WINDOW_OFFSETS, start=1):
            neighbour = positions + k
            valid = (neighbour >= 0) & (neighbour < n)
            valid[valid] &= sentence_of[neighbour[valid]] == sentence_of[valid]
            scores[valid] += views[ids[neighbour[valid]], slot]
            if k in self.boundary:
                scores[~valid] += self.boundary[k]
        lowers = [w.lower() for w in words]
        bigrams = self.bigrams
        right_at, right_rows, left_at, left_rows = [], [], [], []
        offset = 0
        for sentence in sentences:
            m = len(sentence)
            low = lowers[offset:offset + m]
            for i, key in enumerate(map("|".join, zip(low, low[1:])), start=offset + 1):
                pair = bigrams.get(key)
                if pair is not None:
                    if pair[0] is not None:
                        right_at.append(i)
                        right_rows.append(pair[0])
                    if pair[1] is not None:
                        left_at.append(i - 1)
                        left_rows.append(pair[1])
            gazetteer = self.extractor.gazetteer_tags(low)
            if any(t is not None for t in gazetteer):
                gid = np.array([self.gazetteer_id.get(t, 0) if t else 0 for t in gazetteer])
                block = scores[offset:offset + m]
                block += self.gazetteer_rows[""][gid]
                block[1:] += self.gazetteer_rows["-1:"][gid[:-1]]
                block[:-1] += self.gazetteer_rows["1:"][gid[1:]]
            offset += m
        if right_at:
            scores[right_at] += np.array(right_rows)
        if left_at:
            scores[left_at] += np.array(left_rows)
        return scores

    def decode(self, sentences: Sequence[Sequence[str]], *, with_marginals: bool = True) -> tuple[list[list[str]], list[list[float]] | None]:
        """Viterbi tags per sentence and, optionally, the marginal probability of each chosen tag.

        All sentences go to CRFsuite as one sequence, separated by a pseudo-token that can only
        be "O"; each token is given as the ``basis`` attributes with values chosen so that
        CRFsuite's emission score equals the one computed here."""
        sentences = [s for s in sentences]
        if not any(sentences):
            return [[] for _ in sentences], ([[] for _ in sentences] if with_marginals else None)
        values = (self.emissions(sentences) @ self.basis_inverse).tolist()
        names = self.basis
        separator = dict(zip(names, self.separator_values))
        items: list[dict[str, float]] = []
        positions: list[int] = []
        offset = 0
        for sentence in sentences:
            if items:
                items.append(separator)
            positions.append(len(items))
            items.extend(dict(zip(names, row)) for row in values[offset:offset + len(sentence)])
            offset += len(sentence)
        tagger = self.tagger
        path = tagger.tag(items)
        paths = [path[p:p + len(sentence)] for p, sentence in zip(positions, sentences)]
        if not with_marginals:
            return paths, None
        marginals = [[1.0 if tag == "O" else tagger.marginal(tag, p + i) for i, tag in enumerate(sentence_path)]
                     for p, sentence_path in zip(positions, paths)]
        return paths, marginals


def weight_table(state_features: dict[tuple[str, str], float], tags: list[str]) -> tuple[list[str], np.ndarray]:
    """Sorted attributes and their (attributes, tags) weight matrix."""
    attributes = sorted({a for a, _ in state_features})
    row_of = {a: i for i, a in enumerate(attributes)}
    weights = np.zeros((len(attributes), len(tags)))
    for (attribute, tag), weight in state_features.items():
        weights[row_of[attribute], tags.index(tag)] = weight
    return attributes, weights


def fold_domain(state_features: dict[tuple[str, str], float], domain: str | None) -> dict[tuple[str, str], float]:
    """Shared (attribute, tag) weights plus, under the shared attribute's name, those of
    ``domain``'s copies; other domains' copies are dropped. ``"a+b"`` adds the mean of the
    copies of a and b (a text between two conventions); a name given twice counts twice."""
    names = domain.split("+") if domain else []
    share = {name: names.count(name) / len(names) for name in names}
    folded: dict[tuple[str, str], float] = {}
    for (attribute, tag), weight in state_features.items():
        head, mark, rest = attribute.partition(DOMAIN_MARK)
        if mark and head and head.isidentifier():
            if head not in share:
                continue
            attribute, weight = rest, weight * share[head]
        folded[(attribute, tag)] = folded.get((attribute, tag), 0.0) + weight
    return folded


def choose_basis(attributes: list[str], weights: np.ndarray) -> tuple[list[str], np.ndarray]:
    """``len(tags)`` attributes whose weight rows span the tag space (pivoted QR), and the
    inverse of their weight matrix: values ``e @ inverse`` on them make CRFsuite score ``e``."""
    from scipy.linalg import qr

    size = weights.shape[1]
    _, _, pivots = qr(weights.T, mode="economic", pivoting=True)
    chosen = list(pivots[:size])
    basis = weights[chosen]
    if np.linalg.matrix_rank(basis) < size:
        raise ValueError("the CRF weights do not span the tag space; train with more data or lower c1")
    return [attributes[i] for i in chosen], np.linalg.inv(basis)
