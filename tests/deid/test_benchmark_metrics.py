"""The realistic-benchmark figures notenlp-deid is registered and gated with."""

import pytest

from notenlp.evaluation.deid_benchmark import gold_metrics, score_benchmark
from notenlp.lifecycle.catalog import DEID_DEV_GOLD, get_spec


def test_the_gate_tracks_metrics_the_benchmark_reports(tagger):
    metrics = gold_metrics(tagger, DEID_DEV_GOLD, n_notes=4, n_docs=3)
    spec = get_spec("notenlp-deid")
    assert spec.gold == [DEID_DEV_GOLD]
    assert set(spec.tracked) <= set(metrics)
    assert spec.lower_is_better == [f"{DEID_DEV_GOLD}.damage_rate"]


def test_scores_count_planted_phi_and_damage(tagger):
    metrics = score_benchmark(tagger, "dev", n_notes=6, n_docs=4)
    assert metrics["phi_tokens"] > 0
    for key in ("token_recall", "token_precision", "token_f2", "damage_rate"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["notes"] == pytest.approx(6.0)


def test_a_detector_that_finds_nothing_scores_zero_recall_and_no_damage():
    class Nothing:
        def detect(self, text, note_date=None):
            return []

    metrics = score_benchmark(Nothing(), "dev", n_notes=3, n_docs=3)
    assert metrics["token_recall"] == pytest.approx(0.0)
    assert metrics["damage_rate"] == pytest.approx(0.0)
