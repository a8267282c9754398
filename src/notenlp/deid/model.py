"""The statistical name/location token model: multinomial logistic regression on hashed features.

Stored as a compressed ``.npz`` of weights (no pickle), scored with numpy only.
Train with ``python models/deid/train.py``.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np

from notenlp.deid.features import LABELS, N_BUCKETS, hash_features
from notenlp.resources import resource_path

DEFAULT_MODEL = "deid/token_model.npz"


class TokenModel:
    def __init__(self, weights: np.ndarray, bias: np.ndarray, labels: tuple[str, ...] = LABELS):
        if weights.shape != (len(labels), N_BUCKETS):
            raise ValueError(f"model weights have shape {weights.shape}, expected {(len(labels), N_BUCKETS)}")
        self.weights_t = np.ascontiguousarray(weights.T, dtype=np.float32)  # rows = buckets
        self.bias = bias.astype(np.float32)
        self.labels = labels

    def probabilities(self, features: list[list[str]]) -> np.ndarray:
        """One row of class probabilities per token."""
        if not features:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        buckets = [hash_features(f) for f in features]
        starts = np.cumsum([0] + [len(b) for b in buckets[:-1]])
        # Summed in feature order per token, as a per-token sum would, so the scores are the same floats.
        scores = np.add.reduceat(self.weights_t[np.fromiter(chain.from_iterable(buckets), dtype=np.intp)], starts,
                                 axis=0) + self.bias
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, weights=self.weights_t.T.astype(np.float16), bias=self.bias,
                            labels=np.array(self.labels))


@lru_cache(maxsize=4)
def load_model(path: str = DEFAULT_MODEL) -> TokenModel | None:
    """The shipped (or given) model, or None when the file is absent."""
    file = resource_path(*path.split("/")) if not Path(path).is_absolute() else Path(path)
    if not file.exists():
        return None
    with np.load(file) as data:
        return TokenModel(data["weights"].astype(np.float32), data["bias"], tuple(str(x) for x in data["labels"]))
