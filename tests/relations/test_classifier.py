from pathlib import Path

import pytest

from notenlp.relations.component import RelationExtractor
from notenlp.relations.model import RelationClassifier

from .conftest import make_doc


def relations_of(extractor: RelationExtractor, template: str, **names: str) -> set[tuple[str, str, str]]:
    doc, _ = make_doc(template, **names)
    doc = extractor(doc).finalize()
    by_id = {e.id: e for e in doc.entities}
    return {(by_id[r.head].text, r.type, by_id[r.tail].text) for r in doc.relations}


def test_classifier_learns_each_relation_type_on_unseen_mentions(tiny_extractor: RelationExtractor):
    assert relations_of(tiny_extractor, "[{d}]-induced <{p}> was noted.", d="vancomycin", p="nephrotoxicity") == {
        ("vancomycin", "causes_adverse_event", "nephrotoxicity")}
    assert relations_of(tiny_extractor, "He was started on [{d}] for <{p}>.", d="insulin", p="diabetes") == {
        ("insulin", "treats", "diabetes")}
    assert relations_of(tiny_extractor, "[{t}] revealed <{p}>.", t="CT scan", p="appendicitis") == {
        ("CT scan", "reveals", "appendicitis")}
    assert relations_of(tiny_extractor, "History of <{p}>; takes [{d}] daily.", d="aspirin", p="gout") == set()


def test_scores_are_probabilities_above_the_threshold(tiny_model_path: Path):
    extractor = RelationExtractor(model_path=str(tiny_model_path), threshold=0.5)
    doc, _ = make_doc("She developed <{p}> after starting [{d}].", d="lamotrigine", p="rash")
    doc = extractor(doc)
    assert [r.type for r in doc.relations] == ["causes_adverse_event"]
    assert 0.5 <= doc.relations[0].score <= 1.0
    strict = RelationExtractor(model_path=str(tiny_model_path), threshold=1.0)
    doc, _ = make_doc("She developed <{p}> after starting [{d}].", d="lamotrigine", p="rash")
    assert strict(doc).relations == []


def test_save_load_round_trip_keeps_predictions(tiny_model_path: Path, tmp_path: Path):
    model = RelationClassifier.load(tiny_model_path)
    copy = RelationClassifier.load(model.save(tmp_path / "copy.json"))
    features = {"labels=DRUG>PROBLEM": 1.0, "bw=for": 1.0, "cue_between=indication": 1.0}
    allowed = ["causes_adverse_event", "treats"]
    assert copy.probabilities(features, allowed) == pytest.approx(model.probabilities(features, allowed), rel=1e-9)
    assert copy.classes == model.classes


def test_load_rejects_a_foreign_file(tmp_path: Path):
    path = tmp_path / "other.json"
    path.write_text('{"weights": {}}')
    with pytest.raises(ValueError):
        RelationClassifier.load(path)


def test_shipped_model_loads_and_finds_an_adverse_event():
    extractor = RelationExtractor()
    assert relations_of(extractor, "[{d}]-induced <{p}> in a young woman.", d="Amiodarone", p="thyrotoxicosis") == {
        ("Amiodarone", "causes_adverse_event", "thyrotoxicosis")}
