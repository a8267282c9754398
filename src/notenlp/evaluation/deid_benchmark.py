"""The de-identifier scored on the realistic nursing-note benchmark (``notenlp.evaluation.nursing_notes``).

These are the figures ``notenlp-deid`` is registered and gated with: token recall, precision and F2 of
every planted PHI token (any type counts as found: a replaced token is a protected token), recall per
gold subtype, and the damage rate, the share of tokens of PHI-free real clinical sentences that the
de-identifier would replace. Score the ``dev`` part when tuning; read the ``aside`` part's totals only,
and ``aside2`` only as a final measurement.
"""

from __future__ import annotations

from typing import Any

from notenlp.metrics import Score

# Gold sets named like this are the benchmark's parts, scored on the pipeline's de-identifier rather than on
# annotation records (the model catalog names its gold sets so).
DEID_GOLD_PREFIX = "deid-nursing-"
DEFAULT_NOTES = 300
DEFAULT_DAMAGE_DOCS = 120


def score_benchmark(deidentifier: Any, part: str = "dev", n_notes: int = DEFAULT_NOTES,
                    seed: int | None = None, n_docs: int = DEFAULT_DAMAGE_DOCS) -> dict[str, float]:
    """Token scores on ``n_notes`` benchmark notes of ``part`` and the damage rate on its PHI-free set.

    Scored by the same functions as ``notenlp evaluate deid``: the untyped PHI row of ``score_system``,
    the typed recall per planted subtype of ``recall_by_planted`` and ``damage``.
    """
    from notenlp.evaluation.deid import damage, gold_record, metric_key, recall_by_planted, score_system
    from notenlp.evaluation.nursing_notes import damage_part, generate_notes, phi_free_documents

    def detect(note: dict) -> list:
        return deidentifier.detect(note["text"], note.get("note_date"))

    notes = [gold_record(note) for note in generate_notes(part, n_notes, seed=seed)]
    predicted = [detect(note) for note in notes]
    found = {id(note): spans for note, spans in zip(notes, predicted)}
    tokens, *_ = score_system(notes, lambda note: found[id(note)])
    total = tokens.get("PHI", Score())
    harmed = damage(phi_free_documents(damage_part(part), n_docs), detect)  # aside2: the aside half
    metrics = {"token_recall": total.recall, "token_precision": total.precision, "token_f2": total.f(2),
               "damage_rate": harmed["replaced_share"], "notes": float(n_notes),
               "phi_tokens": float(total.tp + total.fn), "damage_tokens": float(harmed["tokens"])}
    metrics.update({f"recall.{metric_key(group)}": score.recall
                    for group, score in sorted(recall_by_planted(notes, predicted).items())})
    return metrics


def gold_metrics(deidentifier: Any, gold_name: str, **kwargs: Any) -> dict[str, float]:
    """``score_benchmark`` for a gold set name (``deid-nursing-dev``), as ``<gold name>.<metric>``."""
    part = gold_name.removeprefix(DEID_GOLD_PREFIX)
    return {f"{gold_name}.{key}": value for key, value in score_benchmark(deidentifier, part, **kwargs).items()}
