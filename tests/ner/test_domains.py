import dataclasses

import pycrfsuite
import pytest

from notenlp.ner.crf import fold_domain
from notenlp.ner.features import FeatureExtractor
from notenlp.evaluation.ner import corpus_domain
from notenlp.ner.model import NerModel

from tests.ner.conftest import synthetic_texts


@pytest.fixture(scope="module")
def two_domain_model() -> NerModel:
    """Domain "bc5cdr" labels drugs and problems; domain "ade" the same texts' drugs only."""
    full = [dataclasses.replace(d, domain="bc5cdr") for d in synthetic_texts()]
    drugs_only = [dataclasses.replace(d, doc_id=f"d{d.doc_id}", domain="ade",
                                      mentions=[m for m in d.mentions if m[2] == "DRUG"]) for d in synthetic_texts()]
    return NerModel.train(full + drugs_only, {"max_iterations": 80, "c1": 0.0, "c2": 0.01, "lexicon": False,
                                              "default_domain": "bc5cdr"})


def labels(model: NerModel, text: str) -> list[tuple[str, str]]:
    return [(text[m.start:m.end], m.label) for m in model.predict(text)]


def test_domain_copies_are_added_to_each_feature():
    extractor = FeatureExtractor({})
    plain = extractor.sequence(["aspirin", "daily"])
    marked = extractor.sequence(["aspirin", "daily"], "ncbi")
    assert [feats[:len(p)] for feats, p in zip(marked, plain)] == plain
    assert [feats[len(p):] for feats, p in zip(marked, plain)] == [[f"ncbi@{f}" for f in p] for p in plain]


def test_fold_domain_adds_the_chosen_domain_and_drops_the_others():
    weights = {("w=x", "B-DRUG"): 1.0, ("a@w=x", "B-DRUG"): 0.5, ("b@w=x", "B-DRUG"): -2.0, ("a@w=y", "O"): 0.25,
               ("w=@", "O"): 0.125, ("bg-=a|b@c", "O"): 0.75}
    assert fold_domain(weights, "a") == pytest.approx({("w=x", "B-DRUG"): 1.5, ("w=y", "O"): 0.25, ("w=@", "O"): 0.125,
                                                       ("bg-=a|b@c", "O"): 0.75}, rel=1e-9)
    assert fold_domain(weights, "a+b")[("w=x", "B-DRUG")] == pytest.approx(1.0 + (0.5 - 2.0) / 2, rel=1e-9)
    assert fold_domain(weights, "a+a+b+b")[("w=x", "B-DRUG")] == pytest.approx(1.0 + (0.5 - 2.0) / 2)
    assert fold_domain(weights, "a+a+b")[("w=x", "B-DRUG")] == pytest.approx(1.0 + (2 * 0.5 - 2.0) / 3)
    assert fold_domain(weights, None) == pytest.approx({("w=x", "B-DRUG"): 1.0, ("w=@", "O"): 0.125,
                                                        ("bg-=a|b@c", "O"): 0.75}, rel=1e-9)


def test_each_domain_tags_by_its_own_convention(two_domain_model):
    text = "Patient was given warfarin for pneumonia ."
    assert two_domain_model.domain == "bc5cdr"
    assert labels(two_domain_model, text) == [("warfarin", "DRUG"), ("pneumonia", "PROBLEM")]
    assert labels(two_domain_model.with_domain("ade"), text) == [("warfarin", "DRUG")]
    assert two_domain_model.with_domain("ade+bc5cdr").domain == "ade+bc5cdr"
    with pytest.raises(ValueError):
        two_domain_model.with_domain("ncbi")
    with pytest.raises(ValueError):
        two_domain_model.with_domain("ade+ncbi")


def test_fast_decoding_matches_crfsuite_with_the_domain_features(two_domain_model):
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(two_domain_model._crf_bytes)
    sentences = [["No", "chest", "pain", "today", ";", "continue", "heparin", "."], ["insulin", "for", "diabetes"]]
    for domain in ("bc5cdr", "ade"):
        model = two_domain_model.with_domain(domain)
        expected = [tagger.tag(model.crf.extractor.sequence(words, domain)) for words in sentences]
        assert model.crf.decode(sentences)[0] == expected


def test_saved_model_keeps_its_domains(two_domain_model, tmp_path):
    path = two_domain_model.save(tmp_path / "domains.zip")
    assert NerModel.read_meta(path)["domains"] == ["ade", "bc5cdr"]
    chosen = [corpus_domain(path, corpus) for corpus in ("bc5cdr", "ade", "ncbi", "demo")]
    assert chosen == ["bc5cdr", "ade", None, None]
    loaded = NerModel.load(path, "ade")
    assert labels(loaded, "She takes insulin daily because of diabetes .") == [("insulin", "DRUG")]
