"""Distributional word clusters learned from unlabelled training text, used as CRF features.

Each frequent word is described by the words seen just before and after it (positive PMI),
reduced by truncated SVD and grouped by k-means at two granularities. Words that share a
cluster behave alike ("cisplatin" ~ "carboplatin"), which lets the CRF generalise to drug and
disease names it never saw labelled.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

import numpy as np

log = logging.getLogger(__name__)


def learn_clusters(sentences: Iterable[list[str]], *, min_count: int = 3, contexts: int = 1500, dims: int = 60,
                   sizes: tuple[int, ...] = (64, 400), seed: int = 0) -> dict[str, list[int]]:
    """word (lowercase) -> one cluster id per granularity in ``sizes``."""
    from scipy.sparse import coo_matrix
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD

    sentences = [[w.lower() for w in s] for s in sentences]
    counts = Counter(w for s in sentences for w in s)
    vocabulary = [w for w, c in counts.most_common() if c >= min_count and any(ch.isalpha() for ch in w)]
    if len(vocabulary) < max(sizes) * 2:
        return {}
    index = {w: i for i, w in enumerate(vocabulary)}
    context_index = {w: i for i, (w, _) in enumerate(counts.most_common(contexts))}
    pairs: Counter[tuple[int, int]] = Counter()
    for s in sentences:
        padded = ["<s>", *s, "</s>"]
        pairs.update(zip(padded[1:-1], padded[:-2]))
        pairs.update((w, f"\t{right}") for w, right in zip(padded[1:-1], padded[2:]))
    rows, cols, values = [], [], []
    for (word, neighbour), count in pairs.items():
        row = index.get(word)
        if row is None:
            continue
        side = 1 if neighbour.startswith("\t") else 0
        col = context_index.get(neighbour[side:])
        if col is not None:
            rows.append(row)
            cols.append(side * contexts + col)
            values.append(count)
    matrix = coo_matrix((values, (rows, cols)), shape=(len(vocabulary), 2 * contexts), dtype=float).tocsr()
    matrix.sum_duplicates()
    total = matrix.sum()
    row_sums = np.asarray(matrix.sum(axis=1)).ravel()
    col_sums = np.asarray(matrix.sum(axis=0)).ravel()
    coo = matrix.tocoo()
    pmi = np.log(coo.data * total / (row_sums[coo.row] * col_sums[coo.col] + 1e-12))
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=matrix.shape).tocsr()
    vectors = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(ppmi)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    ids = [MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096).fit_predict(vectors)
           for k in sizes]
    log.info("clustered %d words into %s clusters", len(vocabulary), "/".join(map(str, sizes)))
    return {w: [int(c[i]) for c in ids] for i, w in enumerate(vocabulary)}
