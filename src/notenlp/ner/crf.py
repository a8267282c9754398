"""Fast tagging with a CRFsuite model: emission scores in NumPy, Viterbi in CRFsuite.

A CRF's emission score is a sum of attribute weights, and most attributes depend only on
one word form at one window position. Those sums are computed once per word form and kept
in a table, so scoring a note is a few array lookups instead of building ~25 feature
strings per token. CRFsuite then decodes from ``len(tags) - 1`` weighted "basis"
attributes per token whose values reproduce those scores up to a constant per token
(which changes neither paths nor marginals) and the 6-digit weight dump.

A NumPy Viterbi/forward-backward over all sentences of a note at once (one vectorised step
per token position) was measured slower than this: ~45 steps a note at ~15 us each, and
the marginals need both passes, while CRFsuite computes them in C from the items it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from notenlp.ner.features import (DOMAIN_MARK, PAIR_AFTER, PAIR_BEFORE, WINDOW_OFFSETS, FeatureExtractor,
                                  context_features)

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
        self.separator_values = separator @ self.basis_inverse
        self.items = item_builder(self.basis)
        self.tags = tags
        self.extractor = extractor
        self.weights = weights
        self.attribute_row = row_of
        size = len(tags)
        zero = np.zeros(size)
        row = self._row
        self.bias = row("bias")
        self.boundary = {-1: row("BOS"), 1: row("EOS")}
        # Bigram attributes "bg-=a|b" (weights for the token b) and "bg+=a|b" (for the token a),
        # and the condition-vocabulary pair bands of (a, b), are looked up for all adjacent tokens
        # at once: lowercase forms get numbers (0: in no pair), a pair of forms a code, and the
        # codes are kept sorted beside the summed weights of their rows.
        rows_of_pair: dict[str, tuple[list[int], list[int]]] = {}  # "a|b" -> (rows for b, rows for a)
        for attribute, i in self.attribute_row.items():
            if attribute[:4] in ("bg-=", "bg+="):
                rows_of_pair.setdefault(attribute[4:], ([], []))[attribute[2] != "-"].append(i)
        for pair, band in extractor.pairs.items():
            for side, prefix in enumerate((PAIR_BEFORE, PAIR_AFTER)):
                i = self.attribute_row.get(f"{prefix}{band}")
                if i is not None:
                    rows_of_pair.setdefault("|".join(pair), ([], []))[side].append(i)
        self.bigram_form: dict[str, int] = {}
        pairs: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        for key, found in rows_of_pair.items():
            parts = key.split("|")
            for cut in range(1, len(parts)):  # a token may itself be "|": every split that gives the key
                a, b = "|".join(parts[:cut]), "|".join(parts[cut:])
                numbers = tuple(self.bigram_form.setdefault(f, len(self.bigram_form) + 1) for f in (a, b))
                pairs[numbers] = found
        self._pair_stride = len(self.bigram_form) + 1
        ordered = sorted(pairs, key=lambda ab: ab[0] * self._pair_stride + ab[1])
        self._pair_codes = np.array([a * self._pair_stride + b for a, b in ordered], dtype=np.int64)
        self._pair_right = np.array([self.weights[pairs[ab][0]].sum(axis=0) for ab in ordered]).reshape(len(ordered), size)
        self._pair_left = np.array([self.weights[pairs[ab][1]].sum(axis=0) for ab in ordered]).reshape(len(ordered), size)
        gazetteer_tags = sorted({f"{p}-{label}" for label in set(extractor.gazetteer.values()) for p in "BI"})
        self.gazetteer_id = {t: i + 1 for i, t in enumerate(gazetteer_tags)}
        self.gazetteer_rows = {
            prefix: np.vstack([zero, *(row(f"{prefix}gz={t}") for t in gazetteer_tags)])
            for prefix in ("", "-1:", "1:")
        }
        # Per window slot (0: the word itself), a word feature -> the row of the attribute it gives
        # there ("f" at 0, "<offset>:f" beside it), so a new word form's rows need no attribute strings.
        self._slot_rows: list[dict[str, int]] = [self.attribute_row]
        for k in WINDOW_OFFSETS:
            prefix = f"{k}:"
            self._slot_rows.append({a[len(prefix):]: i for a, i in self.attribute_row.items() if a.startswith(prefix)})
        self._word_id: dict[str, int] = {}
        # Row 0 stays zero: the "word" beyond a sentence's edge, so that window sums need no masks.
        self._views = np.zeros((1024, 1 + len(WINDOW_OFFSETS), size))
        self._form_of = np.zeros(1024, dtype=np.int64)  # word id -> its bigram form number
        self._reach = max(abs(k) for k in WINDOW_OFFSETS)

    def _row(self, attribute: str) -> np.ndarray:
        i = self.attribute_row.get(attribute)
        return self.weights[i] if i is not None else np.zeros(len(self.tags))

    def _add_words(self, words: Sequence[str]) -> None:
        """Fill the per-word-form emission table for new, distinct word forms (all in one NumPy pass)."""
        first = len(self._word_id) + 1
        needed = first + len(words)
        if needed > len(self._views):
            size = max(needed, len(self._views) * 2)
            grown = np.zeros((size, *self._views.shape[1:]))
            grown[: len(self._views)] = self._views
            self._views = grown
            self._form_of = np.concatenate([self._form_of, np.zeros(size - len(self._form_of), dtype=np.int64)])
        hits: list[int] = []
        firsts: list[int] = []
        targets: list[tuple[int, int]] = []  # (word row, slot) of each sum
        forms: list[int] = []
        for index, word in enumerate(words, start=first):
            features = self.extractor.word_features(word)
            context = context_features(features)
            for slot, rows in enumerate(self._slot_rows):
                # The attributes of extractor.sequence: all features at 0, the context ones at +-1, the word at +-2.
                seen = features if slot == 0 else context if abs(WINDOW_OFFSETS[slot - 1]) == 1 else context[:1]
                found = [rows[f] for f in seen if f in rows]
                if found:
                    targets.append((index, slot))
                    firsts.append(len(hits))
                    hits.extend(found)
            forms.append(self.bigram_form.get(word.lower(), 0))
            self._word_id[word] = index
        added = slice(first, needed)
        self._views[added] = 0.0  # rows are reused after the cache is cleared
        if hits:  # one sum per (word, window slot)
            at = np.array(targets)
            self._views[at[:, 0], at[:, 1]] = np.add.reduceat(self.weights[hits], firsts, axis=0)
        self._form_of[added] = forms

    def emissions(self, sentences: Sequence[Sequence[str]]) -> np.ndarray:
        """(tokens, tags) emission scores of all tokens of the sentences, concatenated."""
        lengths = [len(s) for s in sentences]
        words = [w for sentence in sentences for w in sentence]
        n = len(words)
        known = self._word_id
        if len(known) + n >= _CACHE_LIMIT:  # never mid-note: rows already looked up would be reused
            known.clear()
        get = known.get
        ids = [get(w) for w in words]
        if None in ids:
            self._add_words(list(dict.fromkeys(w for w, i in zip(words, ids) if i is None)))
            ids = [get(w) for w in words]
        ids = np.array(ids, dtype=np.int64)
        sentence_number = np.arange(len(sentences))
        sentence_of = np.repeat(sentence_number, lengths)
        positions = np.arange(n)
        # Word ids with `reach` zero rows before, between and after the sentences.
        reach = self._reach
        at = positions + (sentence_of + 1) * reach
        spaced = np.zeros(n + (len(sentences) + 1) * reach, dtype=np.int64)
        spaced[at] = ids
        views = self._views
        scores = views[ids, 0] + self.bias
        for slot, k in enumerate(WINDOW_OFFSETS, start=1):
            neighbour = spaced[at + k]
            scores += views[neighbour, slot]
            if k in self.boundary:
                scores[neighbour == 0] += self.boundary[k]
        # Lowercased tokens with a space (never a token) after each sentence, so that gazetteer
        # entries do not run across sentences; token i is at i + its sentence.
        lowers: list[str] = []
        for sentence in sentences:
            lowers.extend([w.lower() for w in sentence])
            lowers.append(" ")
        matches = self.extractor.gazetteer_matches(lowers)
        if matches:
            gazetteer_id = self.gazetteer_id
            tag_ids = [0] * (len(lowers) + 1)  # 0 before the first
            for i, length, label in matches:
                tag_ids[i + 1] = gazetteer_id.get(f"B-{label}", 0)
                tag_ids[i + 2:i + 1 + length] = [gazetteer_id.get(f"I-{label}", 0)] * (length - 1)
            gid = np.array(tag_ids)
            spot = positions + sentence_of + 1
            scores += self.gazetteer_rows[""][gid[spot]]
            scores += self.gazetteer_rows["-1:"][gid[spot - 1]]
            scores += self.gazetteer_rows["1:"][gid[spot + 1]]
        if len(self._pair_codes):
            form = self._form_of[spaced]  # 0 in the gaps: no pair runs across sentences
            code = form[:-1] * self._pair_stride + form[1:]
            left_at = np.flatnonzero((form[:-1] > 0) & (form[1:] > 0))
            row = np.minimum(np.searchsorted(self._pair_codes, code[left_at]), len(self._pair_codes) - 1)
            hit = self._pair_codes[row] == code[left_at]
            left_at, row = left_at[hit], row[hit]
            token_of = np.zeros(len(spaced), dtype=np.int64)
            token_of[at] = positions
            scores[token_of[left_at + 1]] += self._pair_right[row]
            scores[token_of[left_at]] += self._pair_left[row]
        return scores

    def decode(self, sentences: Sequence[Sequence[str]], *, with_marginals: bool = True) -> tuple[list[list[str]], list[list[float]] | None]:
        """Viterbi tags per sentence and, optionally, the marginal probability of each chosen tag.

        All sentences go to CRFsuite as one sequence, separated by a pseudo-token that can only
        be "O"; each token is given as the ``basis`` attributes with values chosen so that
        CRFsuite's emission score equals the one computed here."""
        sentences = [s for s in sentences]
        if not any(sentences):
            return [[] for _ in sentences], ([[] for _ in sentences] if with_marginals else None)
        lengths = np.array([len(s) for s in sentences])
        starts = np.cumsum(lengths) - lengths
        follows = np.cumsum(lengths > 0) - (lengths > 0) > 0  # tokens before it: a separator goes first
        values = np.insert(self.emissions(sentences) @ self.basis_inverse, starts[follows], self.separator_values,
                           axis=0)
        items = self.items(values.tolist())
        positions = (starts + np.cumsum(follows)).tolist()
        tagger = self.tagger
        path = tagger.tag(items)
        paths = [path[p:p + len(sentence)] for p, sentence in zip(positions, sentences)]
        if not with_marginals:
            return paths, None
        marginals = [[1.0 if tag == "O" else tagger.marginal(tag, p + i) for i, tag in enumerate(sentence_path)]
                     for p, sentence_path in zip(positions, paths)]
        return paths, marginals


def item_builder(names: list[str]) -> Callable[[list[list[float]]], list[dict[bytes, float]]]:
    """Function of value rows to CRFsuite items ``{name: value}``. It is compiled for the
    names (their reprs as literal keys) because a dict display over unpacked rows builds the
    ~500 items of a note twice as fast as ``dict(zip(names, row))``. The names are UTF-8 bytes,
    which pycrfsuite takes as they are instead of encoding every key of every item."""
    values = "".join(f"v{k}, " for k in range(len(names)))
    fields = ", ".join(f"{name.encode('utf-8')!r}: v{k}" for k, name in enumerate(names))
    return eval(f"lambda rows: [{{{fields}}} for {values}in rows]")


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
    """``len(tags) - 1`` attributes whose weight rows span the tag space together with the
    all-ones row (pivoted QR of the rows less their means), and a matrix that maps emission
    scores ``e`` to values on them that make CRFsuite score ``e`` less a constant per token.
    A constant added to every tag of a token changes neither the path nor the marginals, so
    CRFsuite reads one attribute less per token than there are tags."""
    from scipy.linalg import qr

    size = weights.shape[1]
    _, _, pivots = qr((weights - weights.mean(axis=1, keepdims=True)).T, mode="economic", pivoting=True)
    chosen = list(pivots[:size - 1])
    square = np.vstack([weights[chosen], np.ones(size)])
    if np.linalg.matrix_rank(square) < size:
        raise ValueError("the CRF weights do not span the tag space; train with more data or lower c1")
    return [attributes[i] for i in chosen], np.linalg.inv(square)[:, :size - 1]
