from pathlib import Path

from notenlp.doc import Doc, Entity, Span
from notenlp.relations.component import RelationExtractor
from notenlp.evaluation.relations import ade_dose_scope, in_sentences
from notenlp.relations.model import RelationClassifier
from notenlp.relations.training import align_to_found

from .conftest import make_doc


def test_gold_mentions_move_onto_the_mentions_found_and_missing_ones_are_added():
    text = "Severe lithium toxicity followed carbamazepine."
    gold_doc = Doc(text=text, sentences=[Span(0, len(text))], entities=[
        Entity(7, 14, "lithium", "DRUG"), Entity(7, 23, "lithium toxicity", "PROBLEM"),
        Entity(33, 46, "carbamazepine", "DRUG")])
    gold = [(7, 14, 7, 23, "causes_adverse_event"), (33, 46, 7, 23, "causes_adverse_event")]
    found = [Entity(0, 23, "Severe lithium toxicity", "PROBLEM"), Entity(33, 46, "carbamazepine", "DRUG"),
             Entity(40, 46, "ignored", "ROUTE")]
    doc, relations = align_to_found(gold_doc, gold, found)
    assert sorted((e.start, e.end, e.label) for e in doc.entities) == [
        (0, 23, "PROBLEM"), (7, 14, "DRUG"), (33, 46, "DRUG")]
    assert relations == [(7, 14, 0, 23, "causes_adverse_event"), (33, 46, 0, 23, "causes_adverse_event")]


def test_ade_dose_counts_only_for_a_drug_in_an_adverse_event():
    relations = [(1, 0, 5, 10, 20, "causes_adverse_event"), (1, 0, 5, 30, 36, "has_dose"),
                 (1, 40, 45, 50, 56, "has_dose"), (2, 0, 5, 10, 16, "has_dose")]
    assert ade_dose_scope(relations) == relations[:2]


def test_positive_sentence_scoring_keeps_the_relations_of_those_sentences_only():
    system = [(0, 0, 5, 10, 20, "causes_adverse_event"), (3, 0, 5, 10, 20, "causes_adverse_event")]
    baseline = [(3, 1, 2, 3, 4, "has_dose"), (7, 0, 5, 10, 20, "causes_adverse_event")]
    assert in_sentences({0, 7}, system, baseline) == [system[:1], baseline[1:]]


def test_thresholds_stored_in_the_model_apply_unless_one_is_given(tiny_model_path: Path, tmp_path: Path):
    model = RelationClassifier.load(tiny_model_path)
    model.metadata["thresholds"] = {"causes_adverse_event": 1.0}
    path = model.save(tmp_path / "strict.json")

    def types(extractor: RelationExtractor) -> list[str]:
        doc, _ = make_doc("She developed <{p}> after starting [{d}].", d="lamotrigine", p="rash")
        return [r.type for r in extractor(doc).relations]

    assert types(RelationExtractor(model_path=str(path))) == []
    assert types(RelationExtractor(model_path=str(path), threshold=0.5)) == ["causes_adverse_event"]
    assert types(RelationExtractor(model_path=str(tiny_model_path))) == ["causes_adverse_event"]
