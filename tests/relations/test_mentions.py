import re

from notenlp.doc import Doc, Entity, Span
from notenlp.relations.component import RelationExtractor
from notenlp.relations.mentions import RelationMentions, load_mention_rules

from .test_rules import doc_with, named


def labelled(doc: Doc) -> set[tuple[str, str]]:
    return {(e.text, e.label) for e in doc.entities}


def test_tests_and_imaging_are_found_with_their_region_and_prefix():
    text = "Portable CXR: pneumonia. CT abdomen/pelvis showed ascites. Troponin and CBC w/ diff pending."
    doc = RelationMentions()(Doc(text=text))
    assert labelled(doc) == {("Portable CXR", "TEST"), ("CT abdomen/pelvis", "TEST"), ("Troponin", "TEST"),
                             ("CBC w/ diff", "TEST")}


def test_an_imaging_procedure_becomes_a_test_but_drugs_and_problems_stay():
    doc = doc_with("Chest radiograph showed effusion; given potassium chloride; sodium bicarbonate drip.",
                   [("Chest radiograph", "PROCEDURE"), ("effusion", "PROBLEM"), ("potassium chloride", "DRUG")])
    RelationMentions()(doc)
    assert labelled(doc) == {("Chest radiograph", "TEST"), ("effusion", "PROBLEM"), ("potassium chloride", "DRUG")}


def test_a_longer_test_mention_found_upstream_is_kept():
    doc = doc_with("Transthoracic echocardiogram with bubble study was normal.",
                   [("Transthoracic echocardiogram with bubble study", "TEST")])
    RelationMentions()(doc)
    assert labelled(doc) == {("Transthoracic echocardiogram with bubble study", "TEST")}


def test_dose_descriptors_sit_beside_an_overdose_problem_and_link_to_their_drug():
    doc = doc_with("Coma after an overdose of lithium and high-dose methotrexate.",
                   [("overdose", "PROBLEM"), ("lithium", "DRUG"), ("methotrexate", "DRUG")],
                   sentences=[Span(0, 61)])
    RelationMentions()(doc)
    assert labelled(doc) == {("overdose", "PROBLEM"), ("overdose", "DOSE"), ("lithium", "DRUG"),
                             ("high-dose", "DOSE"), ("methotrexate", "DRUG")}
    relations = named(RelationExtractor(model_path=None)(doc).finalize())
    assert relations == {("lithium", "has_dose", "overdose"), ("methotrexate", "has_dose", "high-dose")}


def test_docs_with_given_targets_are_left_alone():
    doc = Doc(text="CXR showed pneumonia.", targets=[Span(11, 20)],
              entities=[Entity(11, 20, "pneumonia", "PROBLEM", source="target")])
    assert labelled(RelationMentions()(doc)) == {("pneumonia", "PROBLEM")}


def test_the_first_character_hint_changes_no_match():
    hinted = load_mention_rules()
    assert all("(?=[" in rule.regex.pattern for rule in hinted)
    text = ("pt had 12-lead ECG, portable cxr and CT abd/pelvis w/o contrast; overdose of tylenol. "
            "(ct head) x-ray/ct le dopplers, high-dose steroids, supra-therapeutic dose, 1 ct").lower()
    for rule in hinted:
        plain = re.compile(re.sub(r"\(\?=\[[^\]]*\]\)", "", rule.regex.pattern, count=1))
        assert [m.span() for m in rule.regex.finditer(text)] == [m.span() for m in plain.finditer(text)]
