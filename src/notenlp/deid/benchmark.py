"""The de-identifier scored on the realistic nursing-note benchmark (``notenlp.evaluation.nursing_notes``).

These are the figures ``notenlp-deid`` is registered and gated with: token recall, precision and F2 of
every planted PHI token (any type counts as found: a replaced token is a protected token), recall per
gold subtype, and the damage rate, the share of tokens of PHI-free real clinical sentences that the
de-identifier would replace. Score the ``dev`` part when tuning; read the ``aside`` part's totals only.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from notenlp.evaluation.metrics import Score
from notenlp.models.catalog import DEID_GOLD_PREFIX

DEFAULT_NOTES = 300
DEFAULT_DAMAGE_DOCS = 120


def score_benchmark(deidentifier: Any, part: str = "dev", n_notes: int = DEFAULT_NOTES,
                    seed: int | None = None, n_docs: int = DEFAULT_DAMAGE_DOCS) -> dict[str, float]:
    """Token scores on ``n_notes`` benchmark notes of ``part`` and the damage rate on its PHI-free set."""
    from notenlp.deid.evaluate import token_labels
    from notenlp.evaluation.nursing_notes import generate_notes, phi_free_documents

    total = Score()
    by_subtype: dict[str, Score] = defaultdict(Score)
    for note in generate_notes(part, n_notes, seed=seed):
        text = note["text"]
        gold = token_labels(text, [(p["start"], p["end"], p["subtype"]) for p in note["phi"]])
        found = token_labels(text, [(s.start, s.end, s.type) for s in deidentifier.detect(text, note.get("note_date"))])
        for (_, _, subtype), (_, _, predicted) in zip(gold, found):
            if subtype:
                hit = bool(predicted)
                total.tp += hit
                total.fn += not hit
                by_subtype[subtype].tp += hit
                by_subtype[subtype].fn += not hit
            elif predicted:
                total.fp += 1
    tokens = replaced = 0
    for doc in phi_free_documents(part, n_docs):
        labels = token_labels(doc["text"], [(s.start, s.end, s.type) for s in deidentifier.detect(doc["text"])])
        tokens += len(labels)
        replaced += sum(1 for label in labels if label[2])
    metrics = {"token_recall": total.recall, "token_precision": total.precision, "token_f2": total.f(2),
               "damage_rate": replaced / tokens if tokens else 0.0, "notes": float(n_notes),
               "phi_tokens": float(total.tp + total.fn), "damage_tokens": float(tokens)}
    metrics.update({f"recall.{subtype}": score.recall for subtype, score in sorted(by_subtype.items())})
    return metrics


def gold_metrics(deidentifier: Any, gold_name: str, **kwargs: Any) -> dict[str, float]:
    """``score_benchmark`` for a gold set name (``deid-nursing-dev``), as ``<gold name>.<metric>``."""
    part = gold_name.removeprefix(DEID_GOLD_PREFIX)
    return {f"{gold_name}.{key}": value for key, value in score_benchmark(deidentifier, part, **kwargs).items()}
