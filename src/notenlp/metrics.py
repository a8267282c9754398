"""Precision, recall and F-scores over spans, per label, strict and lenient.

A span is ``(doc_key, start, end, label)``. Strict: same offsets and label. Lenient: the
spans overlap and labels agree (each gold span matched at most once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def f(self, beta: float = 1.0) -> float:
        p, r = self.precision, self.recall
        b2 = beta * beta
        return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0

    @property
    def f1(self) -> float:
        return self.f(1.0)

    def as_dict(self, prefix: str = "", beta: float | None = None) -> dict[str, float]:
        out = {f"{prefix}precision": self.precision, f"{prefix}recall": self.recall, f"{prefix}f1": self.f1,
               f"{prefix}tp": self.tp, f"{prefix}fp": self.fp, f"{prefix}fn": self.fn}
        if beta is not None:
            out[f"{prefix}f{beta:g}"] = self.f(beta)
        return out


Span = tuple  # (doc_key, start, end, label), or (doc_key, start1, end1, start2, end2, ..., label)


def _overlap(a: Span, b: Span) -> bool:
    return all(a[i] < b[i + 1] and b[i] < a[i + 1] for i in range(1, len(a) - 1, 2))


def span_scores(gold: Iterable[Span], predicted: Iterable[Span], *, lenient: bool = False) -> dict[str, Score]:
    """Per-label scores plus ``"ALL"`` (micro average).

    A tuple may carry several (start, end) pairs before its label (a relation's head and tail):
    strict needs every offset equal, lenient needs every pair to overlap; each gold tuple matches once.
    """
    gold_by_doc: dict[tuple, list[Span]] = defaultdict(list)
    for g in set(gold):
        gold_by_doc[(g[0], g[-1])].append(g)
    scores: dict[str, Score] = defaultdict(Score)
    matched: set[Span] = set()
    for p in sorted(set(predicted), key=lambda s: (str(s[0]), s[1:])):
        hit = None
        for g in gold_by_doc.get((p[0], p[-1]), []):
            if g in matched:
                continue
            if g[1:-1] == p[1:-1] or (lenient and _overlap(g, p)):
                hit = g
                break
        if hit is None:
            scores[p[-1]].fp += 1
        else:
            matched.add(hit)
            scores[p[-1]].tp += 1
    for spans in gold_by_doc.values():
        for g in spans:
            if g not in matched:
                scores[g[-1]].fn += 1
    total = Score()
    for s in list(scores.values()):
        total.tp += s.tp
        total.fp += s.fp
        total.fn += s.fn
    scores["ALL"] = total
    return dict(scores)


def binary_score(pairs: Iterable[tuple[bool, bool]]) -> Score:
    """Score of a yes/no attribute from (gold, predicted) pairs; the positive class is True."""
    s = Score()
    for gold, pred in pairs:
        if pred and gold:
            s.tp += 1
        elif pred:
            s.fp += 1
        elif gold:
            s.fn += 1
    return s


def format_table(rows: list[dict[str, object]], columns: list[str]) -> str:
    """Plain-text table for the terminal; floats printed with 3 decimals."""
    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    widths = [max(len(c), *(len(cell(r.get(c, ""))) for r in rows)) if rows else len(c) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(cell(r.get(c, "")).ljust(w) for c, w in zip(columns, widths)))
    return "\n".join(lines)
