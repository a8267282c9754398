from notenlp.ner.features import FeatureExtractor
from notenlp.ner.lexicon import icd10cm_word_bands


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
