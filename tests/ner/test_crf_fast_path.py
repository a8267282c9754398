"""The compiled CRF scores and decodes exactly as CRFsuite does from the feature strings."""

import numpy as np
import pycrfsuite
import pytest

from notenlp.ner.crf import choose_basis, item_builder

SENTENCES = [["No", "chest", "pain", "today", ";", "continue", "heparin", "."],
             ["History", "of", "diabetes", ",", "started", "on", "insulin", "."],
             ["insulin"], ["She", "takes", "warfarin", "daily", "because", "of", "atrial", "fibrillation", "."]]


def reference_emissions(model, words):
    """Sum of the state weights of each token's attributes, as CRFsuite adds them."""
    crf = model.crf
    rows = []
    for attributes in model.crf.extractor.sequence(words):
        hits = [crf.attribute_row[a] for a in attributes if a in crf.attribute_row]
        rows.append(crf.weights[hits].sum(axis=0) if hits else np.zeros(len(crf.tags)))
    return np.array(rows)


def test_emissions_equal_the_attribute_weight_sums(tiny_model):
    scores = tiny_model.crf.emissions(SENTENCES)
    expected = np.vstack([reference_emissions(tiny_model, words) for words in SENTENCES])
    assert scores.shape == expected.shape
    assert np.allclose(scores, expected, rtol=0, atol=1e-9)


def test_paths_and_marginals_match_crfsuite_on_the_feature_strings(tiny_model):
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(tiny_model._crf_bytes)
    tagged = 0
    for words in SENTENCES:
        paths, marginals = tiny_model.crf.decode([words])
        expected = tagger.tag(tiny_model.crf.extractor.sequence(words))
        assert paths == [expected]
        assert marginals[0] == pytest.approx([1.0 if tag == "O" else tagger.marginal(tag, i)
                                              for i, tag in enumerate(expected)], abs=1e-6)
        tagged += any(tag != "O" for tag in expected)
    assert tagged >= 3


def test_empty_sentences_get_empty_results(tiny_model):
    alone = tiny_model.crf.decode([SENTENCES[0]])
    assert tiny_model.crf.decode([[], SENTENCES[0]]) == ([[], alone[0][0]], [[], alone[1][0]])
    paths, marginals = tiny_model.crf.decode([[], SENTENCES[0], [], SENTENCES[1]])
    assert paths[0] == paths[2] == [] and marginals[0] == marginals[2] == []
    assert paths[1] == alone[0][0] and len(marginals[1]) == len(SENTENCES[0])
    assert tiny_model.crf.decode([[], []]) == ([[], []], [[], []])


def test_item_builder_keys_any_attribute_name():
    names = ["w=it's", 'sh="x"', "-1:w=a\\b", "w=\u00e9t\u00e9"]
    rows = [[0.5, -1.0, 2.0, 4.0], [1.0, 0.0, -0.25, 0.125]]
    assert item_builder(names)(rows) == [{n.encode("utf-8"): v for n, v in zip(names, row)} for row in rows]
    assert item_builder(["bias"])([[3.0]]) == [{b"bias": 3.0}]


def test_basis_values_reproduce_scores_up_to_a_constant_per_token():
    rng = np.random.default_rng(7)
    weights = rng.normal(size=(40, 5))
    weights[:10] = 0.0
    names, to_values = choose_basis([f"a{i}" for i in range(40)], weights)
    assert len(names) == 4 and to_values.shape == (5, 4)
    emissions = rng.normal(scale=5.0, size=(30, 5))
    scored = (emissions @ to_values) @ weights[[int(n[1:]) for n in names]]
    shift = scored - emissions
    assert np.allclose(shift, shift[:, :1], atol=1e-9)


def test_basis_needs_weights_spanning_the_tags():
    with pytest.raises(ValueError):
        choose_basis(["a", "b", "c"], np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))


def test_bigrams_with_a_bar_token_are_scored_like_the_feature_strings():
    from notenlp.ner.corpora import LabelledText
    from notenlp.ner.model import NerModel

    texts = []
    for i, (drug, problem) in enumerate([("aspirin", "pain"), ("heparin", "clot"), ("insulin", "diabetes")] * 3):
        text = f"Meds | {drug} || for {problem} | daily ."
        d, p = text.index(drug), text.index(problem)
        texts.append(LabelledText(str(i), text, [(d, d + len(drug), "DRUG"), (p, p + len(problem), "PROBLEM")]))
    model = NerModel.train(texts, {"max_iterations": 30, "c1": 0.0, "c2": 0.01, "gazetteer_folds": 1})
    assert any(a.startswith("bg") and a.count("|") > 1 for a in model.crf.attribute_row)
    sentences = [["Meds", "|", "aspirin", "|", "|", "for", "clot"], ["|"], ["|", "daily", "."], ["for", "pain"]]
    expected = np.vstack([reference_emissions(model, words) for words in sentences])
    assert np.allclose(model.crf.emissions(sentences), expected, rtol=0, atol=1e-9)


def test_many_new_word_forms_in_one_note_are_scored_like_the_feature_strings(tiny_model):
    """New forms are added to the emission table together (past its first 1024 rows here), repeats included."""
    crf = tiny_model.crf
    crf._word_id.clear()
    words = [f"{stem}{k}" for k in range(700) for stem in ("zelpril", "Kitis")] + ["insulin", "zelpril3", "of"]
    sentences = [words[i:i + 40] for i in range(0, len(words), 40)]
    scores = crf.emissions(sentences)
    expected = np.vstack([reference_emissions(tiny_model, s) for s in sentences])
    assert np.allclose(scores, expected, rtol=0, atol=1e-9)
    assert np.allclose(crf.emissions(SENTENCES), np.vstack([reference_emissions(tiny_model, s) for s in SENTENCES]),
                       rtol=0, atol=1e-9)
