"""The relation classifier: multinomial logistic regression over sparse pair features.

Trained with scikit-learn, saved as plain JSON (feature -> one weight per class), and scored
in pure Python at annotation time, so loading is safe (no pickle) and a pair costs a few
dictionary look-ups.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NONE = "none"
FORMAT = "notenlp-relations/1"


class RelationClassifier:
    def __init__(self, classes: Sequence[str], weights: dict[str, list[float]], intercept: Sequence[float],
                 metadata: dict[str, Any] | None = None):
        self.classes = list(classes)
        self.weights = weights
        self.intercept = list(intercept)
        self.metadata = metadata or {}
        self._index = {c: k for k, c in enumerate(self.classes)}
        self._columns: dict[tuple[str, ...], tuple[list[str], list[int | None]]] = {}  # allowed types -> scored classes

    @classmethod
    def fit(cls, features: Sequence[dict[str, float]], labels: Sequence[str], *, c: float = 1.0,
            min_count: int = 2, max_iter: int = 2000, metadata: dict[str, Any] | None = None) -> "RelationClassifier":
        """Fit on feature dicts; features seen fewer than ``min_count`` times are dropped."""
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        counts = Counter(name for f in features for name in f)
        kept = [{k: v for k, v in f.items() if counts[k] >= min_count} for f in features]
        vectorizer = DictVectorizer()
        x = vectorizer.fit_transform(kept)
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ValueError(f"need at least two classes to train, got {classes}")
        model = LogisticRegression(C=c, max_iter=max_iter)
        model.fit(x, list(labels))
        coef = model.coef_
        intercept = model.intercept_
        if len(model.classes_) == 2:  # scikit-learn keeps one row for two classes: make it symmetric
            coef = [-coef[0] / 2, coef[0] / 2]
            intercept = [-intercept[0] / 2, intercept[0] / 2]
        names = vectorizer.get_feature_names_out()
        weights = {str(name): [round(float(coef[k][col]), 5) for k in range(len(model.classes_))]
                   for col, name in enumerate(names)}
        weights = {name: w for name, w in weights.items() if any(w)}
        return cls([str(c) for c in model.classes_], weights, [round(float(b), 5) for b in intercept],
                   {**(metadata or {}), "c": c, "min_count": min_count, "n_features": len(weights)})

    def probabilities(self, features: dict[str, float], allowed: Sequence[str]) -> dict[str, float]:
        """Class probabilities renormalised over ``allowed`` (plus ``none``), the types the labels admit.

        Features are binary (every extractor feature has value 1.0): a present name adds its weights once.
        """
        rows = list(filter(None, map(self.weights.get, features)))  # a weight row is never empty
        scored = self._columns.get(tuple(allowed))
        if scored is None:
            names = [NONE, *[t for t in allowed if t in self._index]]
            scored = self._columns[tuple(allowed)] = names, [self._index.get(n) for n in names]
        names, columns = scored
        totals = list(map(sum, zip(*rows))) if rows else [0] * len(self.classes)
        scores = [-math.inf if k is None else self.intercept[k] + totals[k] for k in columns]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        return {n: e / total for n, e in zip(names, exp)}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = {"format": FORMAT, "classes": self.classes, "intercept": self.intercept,
                "metadata": self.metadata, "weights": dict(sorted(self.weights.items()))}
        path.write_text(json.dumps(blob, separators=(",", ":")), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "RelationClassifier":
        blob = json.loads(Path(path).read_text(encoding="utf-8"))
        if blob.get("format") != FORMAT:
            raise ValueError(f"{path} is not a {FORMAT} model file")
        return cls(blob["classes"], blob["weights"], blob["intercept"], blob.get("metadata"))
