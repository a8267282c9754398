import pytest

from notenlp.doc import Doc, Entity, Section, Span
from notenlp.vocab import drugs, text
from notenlp.vocab.matcher import DictionaryMatcher
from notenlp.vocab.normalizer import Normalizer


@pytest.fixture(scope="module")
def matcher(tiny_dictionary):
    return DictionaryMatcher(dictionary=tiny_dictionary)


@pytest.fixture(scope="module")
def normalizer(tiny_dictionary):
    return Normalizer(dictionary=tiny_dictionary)


def found(matcher, note, **doc_fields):
    doc = matcher(Doc(text=note, **doc_fields))
    return [(e.text, e.label, e.concept_id) for e in doc.entities], doc


def test_text_keys():
    assert text.key("Fractures of the Ribs") == "fracture of the rib"
    assert text.bag("hip fracture") == text.bag("Fracture of hip")
    assert text.edit_distance("fibrilation", "fibrillation") == 1
    assert "hip fracture" in [v.lower() for v in text.name_variants("Fracture of hip")]


def test_longest_match_and_offsets(matcher):
    note = "Pt has type 2 diabetes mellitus and essential hypertension."
    entities, doc = found(matcher, note)
    assert entities == [("type 2 diabetes mellitus", "PROBLEM", 201826),
                        ("essential hypertension", "PROBLEM", 320128)]
    first = doc.entities[0]
    assert note[first.start:first.end] == "type 2 diabetes mellitus"
    assert first.source == "dictionary" and first.vocabulary_id == "SNOMED" and first.concept_code == "44054006"


def test_maps_to_gives_standard_and_keeps_source(matcher):
    entities, doc = found(matcher, "Dx: Essential (primary) hypertension")
    assert entities == [("Essential (primary) hypertension", "PROBLEM", 320128)]
    assert doc.entities[0].source_concept_id == 45591453


def test_synonyms_and_word_order(matcher):
    entities, _ = found(matcher, "Breathlessness after hip fracture.")
    assert entities == [("Breathlessness", "PROBLEM", 312437), ("hip fracture", "PROBLEM", 4230399)]


def test_abbreviations_case_and_context(matcher):
    entities, _ = found(matcher, "PMH: HTN, T2DM, afib. Denies SOB.")
    assert [(t, c) for t, _, c in entities] == [("HTN", 320128), ("T2DM", 201826), ("afib", 313217), ("SOB", 312437)]
    # lower-case 'htn'-like English words are not abbreviations when the list says case-sensitive
    assert found(matcher, "sob story, ms. jones")[0] == []
    neuro, _ = found(matcher, "MS with relapsing remitting course, new brain lesions on MRI.")
    assert neuro[0][2] == 374919
    cardiac, _ = found(matcher, "Diastolic murmur at apex; echo shows MS with mitral valve gradient 10.")
    assert cardiac[0][2] == 315273
    drug, _ = found(matcher, "MS 4 mg IV q4h prn pain")
    assert drug[0][1:] == ("DRUG", 1110410)  # morphine (no 4 MG product in the vocabulary)
    assert found(matcher, "MS noted.")[0] == []  # no evidence and no default sense: skipped


def test_abbreviation_section_evidence(matcher):
    note = "Medications:\nMS daily\n"
    entities, _ = found(matcher, note, sections=[Section(0, len(note), "medications")])
    assert entities == [("MS", "DRUG", 1110410)]


def test_misspelling(matcher, normalizer):
    entities, doc = found(matcher, "new onset atrial fibrilation")
    assert entities == [("atrial fibrilation", "PROBLEM", 313217)]
    assert 0.7 <= doc.entities[0].match_score < 1.0
    resolved = normalizer.resolve("pnuemonia", "PROBLEM")
    assert resolved.candidate.concept_id == 255848 and resolved.score < 1.0


def test_drug_strength_reaches_clinical_drug(matcher, normalizer):
    entities, doc = found(matcher, "Started metformin 850 mg tablet twice daily.")
    assert entities == [("metformin", "DRUG", 1503327)]
    assert doc.entities[0].concept_name == "metformin hydrochloride 850 MG Oral Tablet"
    assert found(matcher, "metformin 500mg PO")[0] == [("metformin", "DRUG", 1503328)]
    assert found(matcher, "metformin ER 500 mg")[0] == [("metformin", "DRUG", 40163924)]
    assert found(matcher, "continue metformin")[0] == [("metformin", "DRUG", 1503297)]  # ingredient
    assert found(matcher, "metformin 1000 mg")[0] == [("metformin", "DRUG", 1503297)]  # no such product
    assert normalizer.resolve("metformin 500 mg tablet", "DRUG").candidate.concept_id == 1503328
    assert drugs.parse_product("24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet").strengths == (
        "500 MG",)


def test_label_and_domain_agree(normalizer, matcher):
    doc = Doc(text="pneumonia metformin", entities=[
        Entity(0, 9, "pneumonia", "DRUG"), Entity(10, 19, "metformin", "PROBLEM"),
        Entity(0, 9, "pneumonia", "PROBLEM"), Entity(10, 19, "metformin", "STRENGTH")])
    normalizer(doc)
    assert [e.concept_id for e in doc.entities] == [0, 0, 255848, 0]
    # an Observation concept of an unlisted class (Substance) is never emitted by the matcher
    assert found(matcher, "Asthma")[0] == []
    assert found(matcher, "milligram")[0] == []  # Unit domain


def test_normalizer_steps(normalizer):
    assert normalizer.resolve("hypertension, essential", "PROBLEM").candidate.concept_id == 320128
    assert normalizer.resolve("severe pneumonia", "PROBLEM").candidate.concept_id == 255848
    assert normalizer.resolve("CXR", "PROCEDURE").candidate.concept_id == 4163872
    assert normalizer.resolve("hemoglobin", "TEST").candidate.concept_id == 3000963
    assert normalizer.resolve("zebra stripes", "PROBLEM") is None


def test_normalizer_keeps_existing_concepts(normalizer):
    entity = Entity(0, 9, "pneumonia", "PROBLEM", concept_id=42)
    normalizer(Doc(text="pneumonia", entities=[entity]))
    assert entity.concept_id == 42


def test_matcher_skips_docs_with_targets(matcher):
    doc = matcher(Doc(text="pneumonia", targets=[Span(0, 9)]))
    assert doc.entities == []
