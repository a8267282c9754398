from notenlp.doc import Doc, Entity, Span
from notenlp.relations.component import RelationExtractor


def doc_with(text: str, mentions: list[tuple[str, str]], sentences: list[Span] | None = None) -> Doc:
    """Entities for each (surface, label), found left to right in the text."""
    entities, cursor = [], 0
    for surface, label in mentions:
        start = text.index(surface, cursor)
        entities.append(Entity(start, start + len(surface), surface, label))
        cursor = start + len(surface)
    return Doc(text=text, entities=entities, sentences=sentences or [])


def named(doc: Doc) -> set[tuple[str, str, str]]:
    by_id = {e.id: e for e in doc.entities}
    return {(by_id[r.head].text, r.type, by_id[r.tail].text) for r in doc.relations}


def test_medication_list_lines_link_attributes_to_the_drug_of_their_line():
    text = "Medications:\n1. Metoprolol 25 mg PO BID\n2. Lisinopril 10 mg tablet daily x 30 days\n"
    doc = doc_with(text, [("Metoprolol", "DRUG"), ("25 mg", "STRENGTH"), ("PO", "ROUTE"), ("BID", "FREQUENCY"),
                          ("Lisinopril", "DRUG"), ("10 mg", "STRENGTH"), ("tablet", "FORM"), ("daily", "FREQUENCY"),
                          ("30 days", "DURATION")])
    # one sentence over the whole list: only the line scope keeps the two drugs apart
    doc.sentences = [Span(0, len(text))]
    doc = RelationExtractor(model_path=None)(doc).finalize()
    assert named(doc) == {
        ("Metoprolol", "has_strength", "25 mg"), ("Metoprolol", "has_route", "PO"),
        ("Metoprolol", "has_frequency", "BID"), ("Lisinopril", "has_strength", "10 mg"),
        ("Lisinopril", "has_form", "tablet"), ("Lisinopril", "has_frequency", "daily"),
        ("Lisinopril", "has_duration", "30 days"),
    }


def test_attribute_before_its_drug_and_in_parentheses():
    extractor = RelationExtractor(model_path=None)
    cases = [
        ("The patient was treated with 200 mg TCA and developed edema.", [("200 mg", "DOSE"), ("TCA", "DRUG")],
         {("TCA", "has_dose", "200 mg")}),
        ("She received 1 drop of brimonidine in each eye.", [("1 drop", "DOSE"), ("brimonidine", "DRUG")],
         {("brimonidine", "has_dose", "1 drop")}),
        ("After methotrexate (1500 mg/m2) and cytarabine he was lethargic.",
         [("methotrexate", "DRUG"), ("1500 mg/m2", "DOSE"), ("cytarabine", "DRUG")],
         {("methotrexate", "has_dose", "1500 mg/m2")}),
        ("Aspirin 81 mg and 5 mg of warfarin daily.",
         [("Aspirin", "DRUG"), ("81 mg", "STRENGTH"), ("5 mg", "STRENGTH"), ("warfarin", "DRUG")],
         {("Aspirin", "has_strength", "81 mg"), ("warfarin", "has_strength", "5 mg")}),
    ]
    for text, mentions, expected in cases:
        doc = extractor(doc_with(text, mentions, [Span(0, len(text))])).finalize()
        assert named(doc) == expected, text


def test_no_drug_in_scope_means_no_relation():
    text = "Metoprolol was held.\nBlood pressure 120/80, 25 mg given later."
    doc = doc_with(text, [("Metoprolol", "DRUG"), ("25 mg", "STRENGTH")],
                   [Span(0, 20), Span(21, len(text))])
    assert RelationExtractor(model_path=None)(doc).relations == []


def test_a_line_that_starts_with_a_drug_is_one_scope_even_when_split():
    text = "Discharge meds:\nlosartan 50 MG P.O. q4-6h PRN\nAcetaminophen 325 mg P.O. bid as needed\n"
    doc = doc_with(text, [("losartan", "DRUG"), ("50 MG", "STRENGTH"), ("P.O.", "ROUTE"), ("q4-6h PRN", "FREQUENCY"),
                          ("Acetaminophen", "DRUG"), ("325 mg", "STRENGTH"), ("P.O.", "ROUTE"), ("bid", "FREQUENCY")])
    # a splitter that ends sentences at "P.O." cuts each line in two
    cuts = [m for m in range(len(text)) if text.startswith("P.O. ", m)]
    doc.sentences = [Span(0, 16), Span(16, cuts[0] + 4), Span(cuts[0] + 5, 46), Span(46, cuts[1] + 4),
                     Span(cuts[1] + 5, len(text))]
    doc = RelationExtractor(model_path=None)(doc).finalize()
    assert named(doc) == {
        ("losartan", "has_strength", "50 MG"), ("losartan", "has_route", "P.O."),
        ("losartan", "has_frequency", "q4-6h PRN"), ("Acetaminophen", "has_strength", "325 mg"),
        ("Acetaminophen", "has_route", "P.O."), ("Acetaminophen", "has_frequency", "bid"),
    }


def test_a_list_line_never_pairs_with_the_next_line():
    text = "8. losartan po bid\ndoxy 100mg by mouth every morning\n"
    # "doxy" was not recognised as a drug; the splitter kept both lines in one sentence
    doc = doc_with(text, [("losartan", "DRUG"), ("po", "ROUTE"), ("bid", "FREQUENCY"), ("100mg", "STRENGTH"),
                          ("by mouth", "ROUTE"), ("every morning", "FREQUENCY")], [Span(0, len(text))])
    doc = RelationExtractor(model_path=None)(doc).finalize()
    assert named(doc) == {("losartan", "has_route", "po"), ("losartan", "has_frequency", "bid")}


def test_an_attribute_does_not_reach_a_drug_on_the_next_line():
    text = "Tylenol Sig: 5 mL PO Q6H\ndiphenhydramine 2 tabs PO\n"
    doc = doc_with(text, [("Tylenol", "DRUG"), ("5 mL", "DOSE"), ("PO", "ROUTE"), ("Q6H", "FREQUENCY"),
                          ("diphenhydramine", "DRUG"), ("2 tabs", "DOSE"), ("PO", "ROUTE")], [Span(0, len(text))])
    doc = RelationExtractor(model_path=None)(doc).finalize()
    assert ("diphenhydramine", "has_frequency", "Q6H") not in named(doc)
    assert ("Tylenol", "has_frequency", "Q6H") in named(doc)
