import pytest

from notenlp.ner.features import FeatureExtractor
from notenlp.ner.morphology import MorphologyScorer, jackknife_bands, ngrams, train_scorer, word_labels

DRUG_STEMS = ["pril", "sartan", "olol", "statin"]
CONDITION_STEMS = ["itis", "emia", "osis", "algia"]
ROOTS = ["ben", "cap", "dor", "fen", "gal", "hex", "lom", "mir", "nat", "pol", "ras", "tum"]
PLAIN = ["patient", "given", "daily", "after", "before", "during", "week", "morning", "evening", "doctor", "report",
         "treated", "noted", "found", "history", "started"]


def vocabulary() -> dict[str, str]:
    labelled = {root + stem: "DRUG" for root in ROOTS for stem in DRUG_STEMS}
    labelled.update({root + stem: "PROBLEM" for root in ROOTS for stem in CONDITION_STEMS})
    labelled.update({word: "O" for word in PLAIN})
    return labelled


def test_ngrams_mark_the_word_edges():
    assert ngrams("Ab1c") == ["<ab", "ab1", "b1c", "1c>", "<ab1", "ab1c", "b1c>", "<ab1c", "ab1c>"]


def test_word_labels_take_the_majority_tag_of_eligible_words():
    sequences = [(["Aspirin", "for", "gout"], ["B-DRUG", "O", "B-PROBLEM"]),
                 (["aspirin", "levels"], ["O", "O"]), (["aspirin", "daily"], ["B-DRUG", "O"])]
    assert word_labels(sequences) == {"aspirin": "DRUG", "gout": "PROBLEM", "levels": "O", "daily": "O"}


def test_scorer_generalises_to_unseen_words_and_survives_a_round_trip():
    scorer = MorphologyScorer(train_scorer(vocabulary(), c=10.0).state)
    assert scorer.band("zelpril").startswith("DRUG")
    assert scorer.band("Zelitis").startswith("PROBLEM")
    assert scorer.band("yesterday") is None
    assert scorer.band("pril") is not None and scorer.band("abc") is None  # too short to say


def test_jackknife_scores_every_training_word_without_seeing_it():
    labelled = vocabulary()
    bands = jackknife_bands(labelled, c=10.0)
    assert set(bands) == set(labelled)
    drugs = [w for w, y in labelled.items() if y == "DRUG"]
    assert sum((bands[w] or "").startswith("DRUG") for w in drugs) >= len(drugs) * 0.8


def test_single_label_vocabulary_gives_a_silent_scorer():
    assert train_scorer({"patient": "O", "daily": "O"}).band("patient") is None


def test_band_is_a_word_feature():
    extractor = FeatureExtractor({}, morphology=lambda word: "DRUG2" if word.endswith("pril") else None)
    feats = extractor.sequence(["took", "lisinopril"])
    assert "mo=DRUG2" in feats[1] and "1:mo=DRUG2" in feats[0] and not any(f.startswith("mo=") for f in feats[0])


def test_probabilities_are_the_softmax_of_bias_plus_summed_ngram_weights():
    import numpy as np

    scorer = MorphologyScorer(train_scorer(vocabulary(), c=10.0).state)
    index = {g: i for i, g in enumerate(scorer.state["ngrams"])}
    weights, bias = np.asarray(scorer.state["weights"]), np.asarray(scorer.state["bias"])
    for word in ["zelpril", "Benitis", "morning", "xqzv", "capsartanemia"]:
        rows = [index[g] for g in ngrams(word) if g in index]
        scores = bias + (weights[rows].sum(axis=0) if rows else 0.0)
        expected = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        # NumPy sums and exponentiates in its own order: equal to rounding, not to the last bit
        assert scorer.probabilities(word) == pytest.approx(expected.tolist(), rel=1e-9)
