import pytest

from notenlp.annotate.findings import FindingMentions
from notenlp.doc import Doc, Entity, Span
from notenlp.pipeline import load_config


@pytest.fixture(scope="module")
def findings():
    return FindingMentions()


def mention(text: str, phrase: str, label: str = "PROBLEM", source: str = "dictionary") -> Entity:
    start = text.index(phrase)
    return Entity(start, start + len(phrase), phrase, label, source=source)


def run(findings, text: str, entities: list[Entity]) -> list[tuple[str, str, str]]:
    doc = findings(Doc(text=text, entities=entities))
    return [(e.text, e.label, e.source) for e in sorted(doc.entities, key=lambda e: e.start)]


def test_common_imaging_findings_become_problems_with_their_type_words(findings):
    text = "CXR showed pneumothorax. CT chest revealed focal consolidation and vascular congestion."
    assert run(findings, text, []) == [("pneumothorax", "PROBLEM", "rule"), ("focal consolidation", "PROBLEM", "rule"),
                                       ("vascular congestion", "PROBLEM", "rule")]


def test_a_term_with_another_sense_in_its_context_is_left_out(findings):
    text = "During consolidation, methotrexate was given. Consolidation chemotherapy. CXR: consolidation."
    assert [(e.start, e.text) for e in findings(Doc(text=text)).entities] == [(text.rindex("consolidation"),
                                                                              "consolidation")]


def test_severity_and_size_stay_outside_the_mention(findings):
    text = "CXR: mild cardiomegaly, new atelectasis, small effusion."
    assert [t for t, _, _ in run(findings, text, [])] == ["cardiomegaly", "atelectasis", "effusion"]


def test_site_and_type_words_extend_found_problems_and_keep_their_concept(findings):
    text = "Productive cough improved. Lower extremity edema persists.\nacute appendicitis, severe hypocalcemia"
    cough = mention(text, "cough")
    cough.concept_id = 254761
    found = [cough, mention(text, "edema", source="model"), mention(text, "appendicitis"),
             mention(text, "severe hypocalcemia", source="model")]
    doc = findings(Doc(text=text, entities=found))
    assert [e.text for e in doc.entities] == ["Productive cough", "Lower extremity edema", "appendicitis",
                                              "severe hypocalcemia"]
    assert doc.entities[0].concept_id == 254761


def test_extension_stops_at_other_mentions_and_line_ends(findings):
    text = "Lower extremity dopplers: deep\nvenous thrombosis. Lower extremity venous duplex edema"
    dopplers = mention(text, "Lower extremity dopplers", "TEST", "rule")
    duplex = mention(text, "extremity venous duplex", "TEST", "rule")
    problems = [mention(text, "venous thrombosis"), mention(text, "edema")]
    assert [t for t, _, _ in run(findings, text, [dopplers, duplex, *problems])] == [
        "Lower extremity dopplers", "venous thrombosis", "extremity venous duplex", "edema"]


def test_a_finding_term_replaces_the_shorter_problem_or_test_it_covers(findings):
    text = "Allergies: Fentanyl -> low blood pressure. He reports elevated potassium."
    found = [mention(text, "Fentanyl", "DRUG"), mention(text, "blood pressure", "TEST"),
             mention(text, "potassium", "TEST", "rule")]
    assert run(findings, text, found) == [("Fentanyl", "DRUG", "dictionary"), ("low blood pressure", "PROBLEM", "rule"),
                                          ("elevated potassium", "PROBLEM", "rule")]


def test_a_model_guess_of_another_label_gives_way_but_a_dictionary_mention_does_not(findings):
    text = "Question PTX on CXR. PTX 175 mg/m2 given."
    model_guess = mention(text, "PTX", "DRUG", "model")
    second = text.rindex("PTX")
    paclitaxel = Entity(second, second + 3, "PTX", "DRUG", source="dictionary")
    assert run(findings, text, [model_guess, paclitaxel]) == [("PTX", "PROBLEM", "rule"), ("PTX", "DRUG", "dictionary")]


def test_model_mentions_lose_cues_and_split_alternatives_dictionary_mentions_do_not(findings):
    text = ("Pt denies rash. Dr. Abernathy re vomiting. # GERD vs pulmonary embolism. CT chest: hemorrhage. "
            "Severe anxiety. Allergic to penicillin")
    model = [mention(text, phrase, source="model") for phrase in
             ("denies rash", "Dr. Abernathy re vomiting", "GERD vs pulmonary embolism", "chest: hemorrhage")]
    drug = mention(text, "Allergic to penicillin", "DRUG", source="model")
    assert run(findings, text, [*model, mention(text, "Severe anxiety"), drug]) == [
        ("rash", "PROBLEM", "model"), ("vomiting", "PROBLEM", "model"), ("GERD", "PROBLEM", "model"),
        ("pulmonary embolism", "PROBLEM", "model"), ("hemorrhage", "PROBLEM", "model"),
        ("Severe anxiety", "PROBLEM", "dictionary"), ("penicillin", "DRUG", "model")]


def test_long_words_with_two_neighbouring_letters_swapped_still_match(findings):
    text = "Echo: pleural effsuion. Augmentin -> hyoptension. X-ray: displcaed fracture. CXR: atleectasis. Leg edmea"
    assert [t for t, _, _ in run(findings, text, [])] == [
        "pleural effsuion", "hyoptension", "displcaed fracture", "atleectasis"]


def test_a_model_mention_of_cues_only_is_dropped(findings):
    text = "Patient denies any. No new"
    assert run(findings, text, [mention(text, "No new", source="model")]) == []


def model_at(text: str, phrase: str, after: str) -> Entity:
    """The model PROBLEM mention of ``phrase`` at its first occurrence after ``after``."""
    start = text.index(phrase, text.index(after) + len(after))
    return Entity(start, start + len(phrase), phrase, "PROBLEM", source="model")


def test_model_problems_that_name_a_site_or_mean_room_air_or_a_projection_are_dropped(findings):
    text = "Edema to bilateral lower extremities. SpO2 91% RA. History of RA. CHEST (PORTABLE AP). AP and lateral."
    entities = [model_at(text, "bilateral lower extremities", "Edema"), model_at(text, "RA", "SpO2 91%"),
                model_at(text, "RA", "History of"), model_at(text, "AP", "PORTABLE"), model_at(text, "AP", "AP)")]
    kept = [e for e in findings(Doc(text=text, entities=entities)).entities if e.source == "model"]
    assert [(e.start, e.text) for e in kept] == [(text.index("History of RA") + len("History of "), "RA")]


def test_a_dictionary_site_mention_is_left_as_found(findings):
    text = "Bilateral lower extremities: warm."
    assert run(findings, text, [mention(text, "Bilateral lower extremities")]) == [
        ("Bilateral lower extremities", "PROBLEM", "dictionary")]


def test_docs_with_fixed_targets_pass_through(findings):
    text = "CXR showed pneumothorax."
    doc = Doc(text=text, targets=[Span(0, 3)])
    assert findings(doc).entities == []


def test_the_annotate_pipeline_runs_findings_between_the_ner_and_the_relation_mentions():
    names = [c["name"] for c in load_config("annotate")["components"]]
    order = [names.index(name) for name in ("ner_model", "findings", "relation_mentions", "context")]
    assert order == sorted(order)


def test_imaging_reveals_a_finding_end_to_end(annotate_pipeline):
    text = "Hospital course: CT chest was obtained and revealed pneumothorax. CXR showed focal consolidation.\n"
    doc = annotate_pipeline(Doc(text=text)).finalize()
    by_id = {e.id: e for e in doc.entities}
    reveals = {(by_id[r.head].text, by_id[r.tail].text) for r in doc.relations if r.type == "reveals"}
    assert {("CT chest", "pneumothorax"), ("CXR", "focal consolidation")} <= reveals
