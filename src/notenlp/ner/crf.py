"""Fast tagging with a CRFsuite model: emission scores in NumPy, Viterbi and marginals compiled.

A CRF's emission score is a sum of attribute weights, and most attributes depend only on
one word form at one window position. Those sums are computed once per word form and kept
in a table, so scoring a note is a few array lookups instead of building ~25 feature
strings per token. Viterbi paths and tag marginals are then computed from those scores and
the model's transition weights by :func:`viterbi_marginals`, compiled with Numba.

Loading Numba and its compiled function costs ~0.6 CPU s; the pure-Python decode ~10-16 us a token
(~4 ms more per BC5CDR abstract than Numba). The same function compiled ahead of time
(:mod:`notenlp.compiled`, a plain extension module in the on-disk cache) loads in under a millisecond
without Numba: when it is cached, a process decodes with it from its first token. Otherwise a process
decodes its first ``PYTHON_DECODE_TOKENS`` tokens (~15 abstracts) in Python (same operations in the
same order, so the same floats) and only then compiles the module once (or, where it cannot be built,
loads Numba's jitted function): a run of a few notes never pays for it.

Handing the scores to CRFsuite instead costs more than the decoding itself: its tagger takes
one Python dict of attributes per token, and building and converting those (~500 a note)
cost ~0.9 ms a note. A NumPy Viterbi vectorised across sentences was slower still (one
~15 us step per token position, and both passes again for the marginals).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import math

import numpy as np

from notenlp.ner.features import (DOMAIN_MARK, PAIR_AFTER, PAIR_BEFORE, WINDOW_OFFSETS, FeatureExtractor,
                                  context_features)

_CACHE_LIMIT = 300_000
PYTHON_DECODE_TOKENS = 5_000
# "ahead": the cached ahead-of-time module's function, False when it is not cached, None before the first look
_decode_budget = {"python_tokens": PYTHON_DECODE_TOKENS, "compiled": None, "ahead": None}
AHEAD_NAME = "viterbi_marginals"
AHEAD_SIGNATURE = "Tuple((i8[::1], f8[::1]))(f8[:,::1], f8[:,::1], i8[::1], b1)"


class CompiledCRF:
    def __init__(self, model_bytes: bytes | Callable[[], bytes], extractor: FeatureExtractor, domain: str | None = None,
                 *, model_key: str | None = None):
        """``domain``: whose domain-conjoined weights (``<domain>@<attribute>``) are added to the
        shared ones, folded into one table so that tagging costs the same as without domains.

        The weight tables depend only on the model, the extractor's pairs and gazetteer labels, the domain
        and this code; building them (parsing CRFsuite's dump of ~250k lines) took ~2 s of every process
        start, so they are kept in the on-disk cache (:mod:`notenlp.cache`) under a hash of all of those.
        ``model_key``: a content hash of a file that holds the model (its zip), to key the tables by instead of
        the model's bytes; ``model_bytes`` may then be a function that reads them, called only to build the
        tables (unzipping and hashing the ~9 MB model cost ~0.06 CPU s of a start)."""
        from notenlp import cache

        self.extractor = extractor
        model = f"file:{model_key}" if model_key is not None else model_bytes
        key = cache.content_key(model, domain or "", repr(extractor.pairs),
                                repr(sorted(set(extractor.gazetteer.values()))),
                                cache.source_bytes(__name__, "notenlp.ner.features"))
        read = model_bytes if callable(model_bytes) else lambda: model_bytes
        self.__dict__.update(cache.cached("ner", f"crf-tables-{key}", lambda: self._build_tables(read(), domain)))
        size = len(self.tags)
        self._word_id: dict[str, int] = {}
        # Row 0 stays zero: the "word" beyond a sentence's edge, so that window sums need no masks.
        self._views = np.zeros((1024, 1 + len(WINDOW_OFFSETS), size))
        self._form_of = np.zeros(1024, dtype=np.int64)  # word id -> its bigram form number
        self._opens_entry = np.zeros(1024, dtype=bool)  # word id -> whether a gazetteer entry starts with it
        self._reach = max(abs(k) for k in WINDOW_OFFSETS)

    def _build_tables(self, model_bytes: bytes, domain: str | None) -> dict:
        """Set and return the weight tables read from the CRFsuite model (what ``__init__`` caches)."""
        import pycrfsuite

        extractor = self.extractor
        existing = set(self.__dict__)

        tagger = pycrfsuite.Tagger()
        tagger.open_inmemory(model_bytes)
        info = tagger.info()
        tags = tagger.labels()
        tagger.close()
        attributes, weights = weight_table(fold_domain(info.state_features, domain), tags)
        row_of = {a: i for i, a in enumerate(attributes)}
        self.transitions = np.zeros((len(tags), len(tags)))  # [from, to]
        for (before, after), weight in info.transitions.items():
            self.transitions[tags.index(before), tags.index(after)] = weight
        self.tags = tags
        self._outside = tags.index("O")
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
        return {name: value for name, value in self.__dict__.items() if name not in existing}

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
            self._opens_entry = np.concatenate([self._opens_entry, np.zeros(size - len(self._opens_entry), dtype=bool)])
        hits: list[int] = []
        firsts: list[int] = []
        targets: list[tuple[int, int]] = []  # (word row, slot) of each sum
        forms: list[int] = []
        opens: list[bool] = []
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
            lower = word.lower()
            forms.append(self.bigram_form.get(lower, 0))
            opens.append(lower in self.extractor.gazetteer_first)
            self._word_id[word] = index
        added = slice(first, needed)
        self._views[added] = 0.0  # rows are reused after the cache is cleared
        if hits:  # one sum per (word, window slot)
            at = np.array(targets)
            self._views[at[:, 0], at[:, 1]] = np.add.reduceat(self.weights[hits], firsts, axis=0)
        self._form_of[added] = forms
        self._opens_entry[added] = opens

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
        # Only words that open a gazetteer entry can start a match: their rows are flagged when added.
        opening = np.flatnonzero(self._opens_entry[ids])
        if opening.size:
            found = np.zeros(len(spaced), dtype=np.int64)  # gazetteer tag id per spaced slot, 0 in the gaps
            sentence_end = np.cumsum(lengths)[sentence_of[opening]].tolist()
            lowers = [w.lower() for w in words]
            for i, length, label in self.extractor.gazetteer_matches(lowers, opening.tolist(), sentence_end):
                slot = int(at[i])
                found[slot] = self.gazetteer_id.get(f"B-{label}", 0)
                found[slot + 1:slot + length] = self.gazetteer_id.get(f"I-{label}", 0)
            scores += self.gazetteer_rows[""][found[at]]
            scores += self.gazetteer_rows["-1:"][found[at - 1]]
            scores += self.gazetteer_rows["1:"][found[at + 1]]
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

        Each sentence is decoded as if an "O" token came before and after it: its first tag is
        scored with the transition from "O", its last with the transition to "O". CRFsuite's
        linear chain has no start or end weights, and without these the model tagged more
        clinical headers and list fragments (demo gold, seed 21: PROBLEM precision 0.940 against
        0.955), while BC5CDR and NCBI dev F1 moved by at most 0.005 either way."""
        lengths = np.array([len(s) for s in sentences], dtype=np.int64)
        if not lengths.any():
            return [[] for _ in sentences], ([[] for _ in sentences] if with_marginals else None)
        scores = self.emissions(sentences)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        scores[starts[lengths > 0]] += self.transitions[self._outside]
        scores[ends[lengths > 0] - 1] += self.transitions[:, self._outside]
        path, marginal = viterbi_marginals(scores, self.transitions, lengths, with_marginals)
        tags = self.tags
        names = [tags[i] for i in path.tolist()]
        bounds = list(zip(starts.tolist(), ends.tolist()))
        paths = [names[a:b] for a, b in bounds]
        if not with_marginals:
            return paths, None
        values = marginal.tolist()
        return paths, [values[a:b] for a, b in bounds]


def viterbi_marginals(scores: np.ndarray, transitions: np.ndarray, lengths: np.ndarray,
                      with_marginals: bool) -> tuple[np.ndarray, np.ndarray]:
    """``_viterbi_marginals``: in Python for a process's first ``PYTHON_DECODE_TOKENS`` tokens, then compiled."""
    budget = _decode_budget
    compiled = budget["compiled"]
    if compiled is None:
        if budget["ahead"] is None:
            budget["ahead"] = ahead_of_time_viterbi_marginals(build=False) or False
        if budget["ahead"]:
            compiled = budget["compiled"] = budget["ahead"]
        elif budget["python_tokens"] >= len(scores):
            budget["python_tokens"] -= len(scores)
            return viterbi_marginals_python(scores, transitions, lengths, with_marginals)
        else:
            compiled = budget["compiled"] = (ahead_of_time_viterbi_marginals(build=True)
                                             or compiled_viterbi_marginals())
    return compiled(scores, transitions, lengths, with_marginals)


def compiled_viterbi_marginals():
    from numba import njit

    return njit(cache=True, nogil=True)(_viterbi_marginals)


def ahead_of_time_viterbi_marginals(*, build: bool):
    """``_viterbi_marginals`` compiled ahead of time, from the cache (``build``: compiled into it when missing);
    None when it is not there (or cannot be built)."""
    from notenlp import compiled

    function = (compiled.build if build else compiled.load)(AHEAD_NAME, _viterbi_marginals, AHEAD_SIGNATURE)
    if function is None:
        return None

    def checked(scores: np.ndarray, transitions: np.ndarray, lengths: np.ndarray,
                with_marginals: bool) -> tuple[np.ndarray, np.ndarray]:
        # The module trusts its signature's types (another dtype would crash it); other arrays go to Numba's
        # jitted function, which computes in their own types, as before.
        if (scores.dtype != np.float64 or transitions.dtype != np.float64 or lengths.dtype != np.int64
                or scores.ndim != 2 or transitions.ndim != 2 or lengths.ndim != 1):
            return compiled_viterbi_marginals()(scores, transitions, lengths, with_marginals)
        return function(np.ascontiguousarray(scores), np.ascontiguousarray(transitions),
                        np.ascontiguousarray(lengths), bool(with_marginals))

    return checked


def viterbi_marginals_python(scores: np.ndarray, transitions: np.ndarray, lengths: np.ndarray,
                             with_marginals: bool) -> tuple[np.ndarray, np.ndarray]:
    """``_viterbi_marginals`` in plain Python: the same additions, products and divisions in the same order
    (sums from 0.0 left to right, as Numba sums an array; ``math.exp`` is the C library's ``exp``, as Numba's),
    so the same path and the same marginal floats."""
    n, size = scores.shape
    rows = scores.tolist()
    moves = transitions.tolist()
    exp_moves = [[math.exp(x) for x in row] for row in moves]
    tags = range(size)
    path = [0] * n
    marginal = [1.0] * n
    start = 0
    for length in lengths.tolist():
        if length == 0:
            continue
        last = start + length - 1
        best = rows[start]
        back: list[list[int]] = [[]]
        for t in range(start + 1, last + 1):
            step = []
            pointers = []
            row = rows[t]
            for j in tags:
                top = -math.inf
                arg = 0
                for i in tags:
                    value = best[i] + moves[i][j]
                    if value > top:
                        top = value
                        arg = i
                step.append(top + row[j])
                pointers.append(arg)
            back.append(pointers)
            best = step
        arg = 0
        for i in range(1, size):
            if best[i] > best[arg]:
                arg = i
        path[last] = arg
        for t in range(last, start, -1):
            path[t - 1] = back[t - start][path[t]]
        if with_marginals:
            odds = []
            for t in range(start, last + 1):
                row = rows[t]
                top = max(row)
                odds.append([math.exp(x - top) for x in row])
            alpha = [_scaled(odds[0])]
            for k in range(1, length):
                previous = alpha[k - 1]
                step = []
                for j in tags:
                    total = 0.0
                    for i in tags:
                        total += previous[i] * exp_moves[i][j]
                    step.append(total * odds[k][j])
                alpha.append(_scaled(step))
            beta = [[]] * length
            beta[length - 1] = [1.0] * size
            for k in range(length - 2, -1, -1):
                following, after = beta[k + 1], odds[k + 1]
                step = []
                for i in tags:
                    total = 0.0
                    for j in tags:
                        total += exp_moves[i][j] * after[j] * following[j]
                    step.append(total)
                beta[k] = _scaled(step)
            for k in range(length):
                joint = [a * b for a, b in zip(alpha[k], beta[k])]
                marginal[start + k] = joint[path[start + k]] / _total(joint)
        start += length
    return np.array(path, dtype=np.int64), np.array(marginal)


def _total(values: list[float]) -> float:
    total = 0.0
    for value in values:
        total += value
    return total


def _scaled(values: list[float]) -> list[float]:
    total = _total(values)
    return [value / total for value in values]


def _viterbi_marginals(scores: np.ndarray, transitions: np.ndarray, lengths: np.ndarray,
                       with_marginals: bool) -> tuple[np.ndarray, np.ndarray]:
    """Best tag path of each sentence (consecutive ``lengths`` rows of the (tokens, tags)
    emission ``scores``) under ``transitions[from, to]``, and each chosen tag's marginal
    probability (ones when not ``with_marginals``). Ties go to the lower tag index, as in
    CRFsuite; the marginals come from a forward-backward pass rescaled at every token."""
    n, size = scores.shape
    path = np.zeros(n, dtype=np.int64)
    marginal = np.ones(n)
    back = np.zeros((n, size), dtype=np.int64)
    best = np.empty(size)
    step = np.empty(size)
    alpha = np.empty((n, size))
    beta = np.empty((n, size))
    odds = np.empty((n, size))  # exp(emission - its row maximum): the scale cancels in the marginals
    exp_transitions = np.exp(transitions)
    start = 0
    for length in lengths:
        if length == 0:
            continue
        last = start + length - 1
        best[:] = scores[start]
        for t in range(start + 1, last + 1):
            for j in range(size):
                top = -np.inf
                arg = 0
                for i in range(size):
                    value = best[i] + transitions[i, j]
                    if value > top:
                        top = value
                        arg = i
                step[j] = top + scores[t, j]
                back[t, j] = arg
            best[:] = step
        arg = 0
        for i in range(1, size):
            if best[i] > best[arg]:
                arg = i
        path[last] = arg
        for t in range(last, start, -1):
            path[t - 1] = back[t, path[t]]
        if with_marginals:
            for t in range(start, last + 1):
                odds[t] = np.exp(scores[t] - scores[t].max())
            alpha[start] = odds[start] / odds[start].sum()
            for t in range(start + 1, last + 1):
                for j in range(size):
                    total = 0.0
                    for i in range(size):
                        total += alpha[t - 1, i] * exp_transitions[i, j]
                    step[j] = total * odds[t, j]
                alpha[t] = step / step.sum()
            beta[last] = 1.0
            for t in range(last - 1, start - 1, -1):
                for i in range(size):
                    total = 0.0
                    for j in range(size):
                        total += exp_transitions[i, j] * odds[t + 1, j] * beta[t + 1, j]
                    step[i] = total
                beta[t] = step / step.sum()
            for t in range(start, last + 1):
                joint = alpha[t] * beta[t]
                marginal[t] = joint[path[t]] / joint.sum()
        start += length
    return path, marginal


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
