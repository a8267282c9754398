"""The encoder probe's own helpers (the fine-tuning needs the optional ``encoder`` extra, not these)."""

import importlib.util
from pathlib import Path

import pytest

from notenlp.doc import Entity

RECIPES = Path(__file__).resolve().parents[2] / "models" / "relations"


def load_recipe(name: str):
    """A script of models/relations/ as a module (they are run as files, not imported as a package)."""
    spec = importlib.util.spec_from_file_location(name, RECIPES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_probe():
    return load_recipe("encoder_probe")


def test_pair_text_marks_the_drug_with_at_signs_and_the_problem_with_hashes_in_either_order():
    probe = load_probe()
    text = "Rash after amoxicillin."
    rash, amoxicillin = Entity(0, 4, "Rash", "PROBLEM"), Entity(11, 22, "amoxicillin", "DRUG")
    assert probe.marked(text, amoxicillin, rash) == "# Rash # after @ amoxicillin @ ."
    text = "Lithium-induced tremor"
    assert probe.marked(text, Entity(0, 7, "Lithium", "DRUG"), Entity(16, 22, "tremor", "PROBLEM")) == \
        "@ Lithium @ -induced # tremor #"


def test_threshold_is_the_one_with_the_best_dev_f1():
    probe = load_probe()
    labels = [1, 1, 0, 0, 1]
    scores = [0.9, 0.62, 0.58, 0.1, 0.3]
    threshold, f1 = probe.best_threshold(labels, scores)
    # from 0.3 down: 3 right, 1 wrong (0.857); at 0.6: 2 right, 1 missed (0.8)
    assert f1 == pytest.approx(6 / 7, rel=1e-9)
    assert threshold == pytest.approx(0.2, rel=1e-9)  # the first of the equal best


def test_length_batches_cover_every_index_once():
    probe = load_probe()
    import random

    lengths = [5, 1, 9, 3, 7, 2, 8]
    for rng in (None, random.Random(1)):
        batches = list(probe.batches(len(lengths), 3, rng, lengths))
        assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
        assert all(len(b) <= 3 for b in batches)
    assert list(probe.batches(len(lengths), 3, None, lengths))[0] == [1, 5, 3]
