"""What a word's spelling says about its label: a character n-gram classifier as a CRF feature.

Drug and chemical names share pieces inside the word ("remi-fent-anil", "etori-coxib",
"io-hex-ol") that the CRF's prefix and suffix features do not see, and most of the chemicals
in new text were never seen in training. A logistic regression over the character 3- to
5-grams of the training words (label: the one most of the word's tokens carry) says how
drug-like or condition-like a word form is; its band is a feature of the word form, so it
costs nothing per token.

The CRF must learn how far to trust the classifier on words it has not seen, so the training
words are scored by a classifier trained on the other half of the vocabulary (a jackknife,
as for the gazetteer); new text is scored by the classifier trained on all of it.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

log = logging.getLogger(__name__)

NGRAMS = (3, 5)
MIN_LENGTH = 4
BANDS = (0.5, 0.8)


def ngrams(word: str) -> list[str]:
    padded = f"<{word.lower()}>"
    low, high = NGRAMS
    return [padded[i:i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


def eligible(word: str) -> bool:
    return len(word) >= MIN_LENGTH and sum(c.isalpha() for c in word) >= 3


class MorphologyScorer:
    """Softmax over n-gram weights; ``band(word)`` is the feature value (None: nothing to say)."""

    def __init__(self, state: dict):
        self.labels: list[str] = state["labels"]
        # n-gram -> its weight per label, as Python floats: a word has ~20 n-grams and 2-3 labels,
        # sizes at which NumPy's per-call cost outweighs the arithmetic (the sums are the same).
        self.weights: dict[str, tuple[float, ...]] = {
            g: tuple(float(w) for w in row) for g, row in zip(state["ngrams"], state["weights"])}
        self.bias = [float(b) for b in state["bias"]]
        self.state = state

    def probabilities(self, word: str) -> list[float]:
        """Softmax over the labels of the bias plus the summed weights of the word's n-grams."""
        rows = [row for row in map(self.weights.get, ngrams(word)) if row is not None]
        sums = [sum(column) for column in zip(*rows)] if rows else [0.0] * len(self.bias)
        scores = [b + s for b, s in zip(self.bias, sums)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]

    def band(self, word: str) -> str | None:
        if not eligible(word):
            return None
        probabilities = self.probabilities(word)
        best = probabilities.index(max(probabilities))
        if self.labels[best] == "O" or probabilities[best] < BANDS[0]:
            return None
        return f"{self.labels[best]}{sum(probabilities[best] >= b for b in BANDS)}"


def word_labels(sequences: Iterable[tuple[Sequence[str], Sequence[str]]]) -> dict[str, str]:
    """Lowercased eligible word -> the label (or "O") most of its tokens carry."""
    counts: dict[str, Counter[str]] = {}
    for words, tags in sequences:
        for word, tag in zip(words, tags):
            if eligible(word):
                counts.setdefault(word.lower(), Counter())[tag[2:] if tag != "O" else "O"] += 1
    return {word: by_label.most_common(1)[0][0] for word, by_label in counts.items()}


def train_scorer(labelled: dict[str, str], *, c: float = 1.0, min_count: int = 2) -> MorphologyScorer:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    words = sorted(labelled)
    if len(set(labelled.values())) < 2:
        return MorphologyScorer({"labels": sorted(set(labelled.values())) or ["O"], "ngrams": [], "weights": [],
                                 "bias": [0.0]})
    vectorizer = CountVectorizer(analyzer=ngrams, min_df=min_count if len(words) >= 1000 else 1, binary=True)
    matrix = vectorizer.fit_transform(words)
    classifier = LogisticRegression(C=c, max_iter=300)
    classifier.fit(matrix, [labelled[w] for w in words])
    coefficients = classifier.coef_
    if coefficients.shape[0] == 1:  # two labels: one row of log-odds for the second
        coefficients = np.vstack([np.zeros_like(coefficients[0]), coefficients[0]])
        bias = [0.0, float(classifier.intercept_[0])]
    else:
        bias = [float(b) for b in classifier.intercept_]
    vocabulary = vectorizer.get_feature_names_out().tolist()
    weights = np.round(coefficients.T, 3)
    keep = np.abs(weights).max(axis=1) >= 0.01
    return MorphologyScorer({"labels": [str(c) for c in classifier.classes_],
                             "ngrams": [g for g, k in zip(vocabulary, keep) if k],
                             "weights": weights[keep].tolist(), "bias": bias})


def jackknife_bands(labelled: dict[str, str], folds: int = 2, **options) -> dict[str, str | None]:
    """Band of each training word by the classifier trained on the other folds of the vocabulary."""
    fold_of = {w: zlib.crc32(w.encode()) % folds for w in labelled}
    bands: dict[str, str | None] = {}
    for fold in range(folds):
        scorer = train_scorer({w: y for w, y in labelled.items() if fold_of[w] != fold}, **options)
        bands.update((w, scorer.band(w)) for w in labelled if fold_of[w] == fold)
    log.info("morphology bands of %d training words (%d folds)", len(bands), folds)
    return bands
