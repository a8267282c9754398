import numpy as np
import pytest

from notenlp.ner.features import FeatureExtractor
from notenlp.ner.lexicon import drug_name_words, icd10cm_pair_bands, icd10cm_word_bands


def test_icd10cm_bands_rank_condition_words_by_title_frequency():
    bands = icd10cm_word_bands()
    assert bands["of"] == 4  # in tens of thousands of titles
    assert 1 <= bands["chorea"] < bands["fracture"]
    assert "iohexol" not in bands and "42" not in bands


def test_lexicon_band_is_a_word_feature_and_a_neighbour_feature():
    extractor = FeatureExtractor({}, lexicon={"chorea": 1})
    feats = extractor.sequence(["severe", "chorea"])
    assert "lx=1" in feats[1] and "1:lx=1" in feats[0]
    assert not any(f.startswith("lx=") for f in feats[0])


def test_icd10cm_pairs_are_adjacent_title_tokens_with_letters():
    pairs = icd10cm_pair_bands()
    assert pairs["atrial fibrillation"] >= 1 and pairs["migraine with"] >= 1
    assert "fibrillation atrial" not in pairs and not any(" , " in f" {pair} " for pair in pairs)


def test_pair_band_goes_to_both_tokens_of_the_pair():
    extractor = FeatureExtractor({}, pairs={"erythema nodosum": 0})
    feats = extractor.sequence(["painful", "erythema", "nodosum", "."])
    assert "pb+=0" in feats[1] and "pb-=0" in feats[2]
    assert not any(f.startswith("pb") for f in feats[0] + feats[3])


def test_the_compiled_crf_scores_pair_bands_like_crfsuite(tiny_model):
    assert "pb-=" in " ".join(tiny_model.crf.attribute_row)  # the tiny texts hold ICD-10-CM pairs
    words = ["severe", "chest", "pain", "and", "atrial", "fibrillation"]
    rows = [[tiny_model.crf.attribute_row[a] for a in feats if a in tiny_model.crf.attribute_row]
            for feats in tiny_model.crf.extractor.sequence(words)]
    expected = np.array([tiny_model.crf.weights[r].sum(axis=0) for r in rows])
    assert np.allclose(tiny_model.crf.emissions([words]), expected, rtol=0, atol=1e-9)


def test_drug_name_words_are_one_token_names_from_the_drug_dictionary():
    pytest.importorskip("drug_named_entity_recognition")
    names = set(drug_name_words())
    assert {"iohexol", "remifentanil", "valdecoxib", "aspirin"} <= names
    assert not {"the", "and", "pain", "fever", "with"} & names


def test_a_drug_name_is_a_word_feature_and_a_neighbour_feature():
    extractor = FeatureExtractor({}, drug_names=["iohexol"])
    feats = extractor.sequence(["after", "Iohexol", "injection"])
    assert "dn" in feats[1] and "1:dn" in feats[0] and "-1:dn" in feats[2]
    assert "dn" not in feats[0] + feats[2]
