from notenlp.doc import Doc, Entity, Relation, Span
from notenlp.relations.component import RelationExtractor

from .conftest import make_doc


def named(doc: Doc) -> set[tuple[str, str, str]]:
    by_id = {e.id: e for e in doc.entities}
    return {(by_id[r.head].text, r.type, by_id[r.tail].text) for r in doc.relations}


def test_negated_problem_gives_no_adverse_event_or_treatment(tiny_extractor: RelationExtractor):
    for template in ("[{d}]-induced <{p}> was noted.", "He was started on [{d}] for <{p}>."):
        doc, (drug, problem) = make_doc(template, d="amoxicillin", p="rash")
        assert tiny_extractor(doc).relations, template  # asserted: the relation is found
        doc, (drug, problem) = make_doc(template, d="amoxicillin", p="rash")
        problem.negated = True
        assert tiny_extractor(doc).relations == [], template
        doc, (drug, problem) = make_doc(template, d="amoxicillin", p="rash")
        drug.hypothetical = True
        assert tiny_extractor(doc).relations == [], template


def test_hypothetical_problem_with_a_written_indication_keeps_treats(tiny_extractor: RelationExtractor):
    doc, (drug, problem) = make_doc("He was started on [{d}] for <{p}>.", d="ondansetron", p="nausea")
    problem.hypothetical = True  # "PRN nausea": the order itself asserts the indication
    assert named(tiny_extractor(doc).finalize()) == {("ondansetron", "treats", "nausea")}


def test_negated_test_finding_still_revealed_is_not_suppressed(tiny_extractor: RelationExtractor):
    doc, (test, problem) = make_doc("[{t}] revealed <{p}>.", t="MRI", p="stroke")
    test.historical = True
    assert named(tiny_extractor(doc).finalize()) == {("MRI", "reveals", "stroke")}


def test_relation_ends_survive_finalize_when_entities_are_out_of_order(tiny_extractor: RelationExtractor):
    text = "Warfarin 5 mg PO daily.\nNow warfarin-induced bleeding."
    spans = [(28, 36, "DRUG"), (45, 53, "PROBLEM"), (9, 13, "STRENGTH"), (0, 8, "DRUG"), (14, 16, "ROUTE"),
             (17, 22, "FREQUENCY")]
    doc = Doc(text=text, sentences=[Span(0, 23), Span(24, len(text))],
              entities=[Entity(s, e, text[s:e], label) for s, e, label in spans])
    doc = tiny_extractor(doc).finalize()
    assert [e.start for e in doc.entities] == sorted(e.start for e in doc.entities)
    assert [e.id for e in doc.entities] == list(range(len(doc.entities)))
    assert named(doc) == {("Warfarin", "has_strength", "5 mg"), ("Warfarin", "has_route", "PO"),
                          ("Warfarin", "has_frequency", "daily"),
                          ("warfarin", "causes_adverse_event", "bleeding")}


def test_relation_ends_follow_existing_entity_ids():
    text = "Aspirin 81 mg daily."
    doc = Doc(text=text, sentences=[Span(0, len(text))], entities=[
        Entity(8, 13, "81 mg", "STRENGTH", id=7), Entity(0, 7, "Aspirin", "DRUG", id=3)])
    doc.relations.append(Relation(head=3, tail=7, type="has_strength"))  # set by an earlier component
    doc.entities.append(Entity(14, 19, "daily", "FREQUENCY"))  # id -1: keyed by its position, 2
    doc = RelationExtractor(model_path=None)(doc).finalize()
    assert named(doc) == {("Aspirin", "has_strength", "81 mg"), ("Aspirin", "has_frequency", "daily")}
    assert len(doc.relations) == 3  # the earlier relation is kept, ours are appended
