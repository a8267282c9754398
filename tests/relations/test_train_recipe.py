"""The relation recipe's own helpers (training itself needs the ADE corpus, not these)."""

import pytest

from notenlp.metrics import Score

from .test_encoder_probe import load_recipe


def test_threshold_with_the_best_dev_f1_and_a_tie_goes_nearest_one_half():
    best_threshold = load_recipe("train").best_threshold
    assert best_threshold({0.3: 0.5, 0.35: 0.7, 0.4: 0.6, 0.5: 0.65}) == pytest.approx(0.35)
    # 0.45 and 0.55 are as near 0.5: the lower one
    assert best_threshold({0.3: 0.7, 0.45: 0.7, 0.55: 0.7, 0.6: 0.5}) == pytest.approx(0.45)


def test_f1s_equal_but_for_rounding_are_a_tie():
    # 1/3 both: 2PR/(P+R) rounds them an ulp apart, the larger at the threshold farther from 0.5
    farther, nearer = Score(tp=1, fp=0, fn=4).f1, Score(tp=1, fp=1, fn=3).f1
    assert farther > nearer
    assert load_recipe("train").best_threshold({0.3: farther, 0.45: nearer, 0.6: 0.2}) == pytest.approx(0.45)
