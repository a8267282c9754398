"""The compiled CRF scores and decodes exactly as CRFsuite does from the feature strings."""

import numpy as np
import pycrfsuite
import pytest

from notenlp.ner.crf import compiled_viterbi_marginals, viterbi_marginals, viterbi_marginals_python
from tests.floats import approx_floats

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
    crf = tiny_model.crf
    tagged = 0
    for words in SENTENCES:
        path, marginal = viterbi_marginals(crf.emissions([words]), crf.transitions, np.array([len(words)]), True)
        expected = tagger.tag(crf.extractor.sequence(words))
        assert [crf.tags[i] for i in path] == expected
        assert marginal.tolist() == pytest.approx([tagger.marginal(tag, i) for i, tag in enumerate(expected)], abs=1e-6)
        tagged += any(tag != "O" for tag in expected)
    assert tagged >= 3


def test_each_sentence_is_decoded_between_outside_tokens(tiny_model):
    """decode() equals decoding the sentence with a token that can only be "O" on either side."""
    crf = tiny_model.crf
    outside = np.full((1, len(crf.tags)), -1e4)
    outside[0, crf.tags.index("O")] = 0.0
    for words in SENTENCES:
        padded = np.vstack([outside, crf.emissions([words]), outside])
        path, marginal = viterbi_marginals(padded, crf.transitions, np.array([len(words) + 2]), True)
        paths, marginals = crf.decode([words])
        assert paths == [[crf.tags[i] for i in path[1:-1]]]
        assert marginals[0] == pytest.approx(marginal[1:-1].tolist(), abs=1e-9)


def test_empty_sentences_get_empty_results(tiny_model):
    alone = tiny_model.crf.decode([SENTENCES[0]])
    # decoded in another batch: the same paths, the marginals equal to rounding
    expected = ([[], alone[0][0]], [[], alone[1][0]])
    assert tiny_model.crf.decode([[], SENTENCES[0]]) == approx_floats(expected, abs=1e-12)
    paths, marginals = tiny_model.crf.decode([[], SENTENCES[0], [], SENTENCES[1]])
    assert paths[0] == paths[2] == [] and marginals[0] == marginals[2] == []
    assert paths[1] == alone[0][0] and len(marginals[1]) == len(SENTENCES[0])
    assert tiny_model.crf.decode([[], []]) == ([[], []], [[], []])


def test_sentences_decoded_together_are_decoded_independently(tiny_model):
    crf = tiny_model.crf
    together = crf.decode(SENTENCES)
    alone = [crf.decode([words]) for words in SENTENCES]
    assert together[0] == [paths[0] for paths, _ in alone]
    for marginals, (_, single) in zip(together[1], alone):
        assert marginals == pytest.approx(single[0], abs=1e-12)


@pytest.mark.parametrize("decode", [viterbi_marginals_python, compiled_viterbi_marginals()], ids=["python", "numba"])
def test_viterbi_takes_the_best_path_and_marginals_sum_over_paths(decode):
    """Brute force over every path of a random 3-tag CRF, two sentences in one call."""
    import itertools

    rng = np.random.default_rng(3)
    scores, transitions = rng.normal(size=(7, 3)), rng.normal(size=(3, 3))
    path, marginal = decode(scores, transitions, np.array([4, 0, 3]), True)
    for start, length in ((0, 4), (4, 3)):
        rows = scores[start:start + length]
        totals = {p: sum(rows[t, p[t]] for t in range(length)) + sum(transitions[a, b] for a, b in zip(p, p[1:]))
                  for p in itertools.product(range(3), repeat=length)}
        best = max(totals, key=totals.get)
        assert tuple(path[start:start + length]) == best
        z = sum(np.exp(v) for v in totals.values())
        for t in range(length):
            expected = sum(np.exp(v) for p, v in totals.items() if p[t] == best[t]) / z
            assert marginal[start + t] == pytest.approx(expected, rel=1e-9)
    ones = decode(scores, transitions, np.array([7]), False)[1]
    assert ones.tolist() == pytest.approx([1.0] * 7, rel=1e-9)


def test_python_decode_equals_the_compiled_one():
    """A process decodes its first tokens in Python: same paths (ties included) and the same marginals."""
    rng = np.random.default_rng(11)
    compiled = compiled_viterbi_marginals()
    for trial in range(60):
        size = int(rng.integers(2, 7))
        lengths = rng.integers(0, 30, size=int(rng.integers(1, 5)))
        scores = rng.normal(0, 3, size=(int(lengths.sum()), size))
        transitions = rng.normal(0, 2, size=(size, size))
        if trial % 3 == 0:  # whole numbers: many tied paths
            scores, transitions = np.round(scores), np.round(transitions)
        for with_marginals in (True, False):
            fast_path, fast_marginal = compiled(scores, transitions, lengths, with_marginals)
            path, marginal = viterbi_marginals_python(scores, transitions, lengths, with_marginals)
            assert path.tolist() == fast_path.tolist(), trial
            assert np.allclose(marginal, fast_marginal, rtol=1e-15, atol=0), trial


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
