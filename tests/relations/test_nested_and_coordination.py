import pytest

from notenlp.annotate.medications import MedicationAttributes
from notenlp.doc import Doc, Entity, Span
from notenlp.relations.component import RelationExtractor
from notenlp.relations.features import FeatureExtractor
from notenlp.relations.mentions import NestedDrugs, RelationMentions
from notenlp.relations.training import pair_examples

from .conftest import CLASSIFIED
from .test_mentions import labelled
from .test_rules import doc_with, named


def test_a_drug_named_inside_an_adverse_problem_is_added_nested_and_the_problem_stays():
    doc = doc_with("She developed lithium toxicity and valproate embryopathy, renal toxicity and drug-induced hepatitis.",
                   [("lithium toxicity", "PROBLEM"), ("valproate embryopathy", "PROBLEM"), ("renal toxicity", "PROBLEM"),
                    ("drug-induced hepatitis", "PROBLEM")])
    RelationMentions()(doc)
    assert labelled(doc) == {("lithium toxicity", "PROBLEM"), ("lithium", "DRUG"),
                             ("valproate embryopathy", "PROBLEM"), ("valproate", "DRUG"),
                             ("renal toxicity", "PROBLEM"), ("drug-induced hepatitis", "PROBLEM")}


def test_microbes_organs_and_exposures_are_not_nested_drugs():
    doc = doc_with("Adenovirus-associated cystitis, optic nerve toxicity and radiation-induced pneumonitis.",
                   [("Adenovirus-associated cystitis", "PROBLEM"), ("optic nerve toxicity", "PROBLEM"),
                    ("radiation-induced pneumonitis", "PROBLEM")])
    assert NestedDrugs().find(doc) == []


def test_nested_drugs_only_come_from_problems_and_can_be_switched_off():
    text = "Vitamin D toxicity; lithium toxicity."
    finder = NestedDrugs()
    assert finder.named_in(text, Entity(0, 18, "Vitamin D toxicity", "PROBLEM")) == [(0, 9)]
    assert finder.named_in(text, Entity(20, 36, "lithium toxicity", "TEST")) == []
    doc = doc_with(text, [("lithium toxicity", "PROBLEM")])
    assert labelled(RelationMentions(nested_drugs=None)(doc)) == {("lithium toxicity", "PROBLEM")}


def test_the_nested_drug_causes_its_problem_unless_the_problem_is_negated():
    doc = doc_with("Admitted with lithium toxicity.", [("lithium toxicity", "PROBLEM")], sentences=[Span(0, 31)])
    RelationMentions()(doc)
    assert named(RelationExtractor(model_path=None)(doc).finalize()) == {
        ("lithium", "causes_adverse_event", "lithium toxicity")}
    negated = doc_with("No digoxin toxicity.", [("digoxin toxicity", "PROBLEM")], sentences=[Span(0, 20)])
    negated.entities[0].negated = True
    RelationMentions()(negated)
    assert named(RelationExtractor(model_path=None)(negated).finalize()) == set()


def test_overlapping_mentions_are_never_training_pairs():
    text = "Lithium toxicity after haloperidol."
    doc = Doc(text=text, sentences=[Span(0, len(text))],
              entities=[Entity(0, 7, "Lithium", "DRUG"), Entity(0, 16, "Lithium toxicity", "PROBLEM"),
                        Entity(23, 34, "haloperidol", "DRUG")])
    gold = [(0, 7, 0, 16, "causes_adverse_event"), (23, 34, 0, 16, "causes_adverse_event")]
    pairs = pair_examples(doc, gold, FeatureExtractor(RelationExtractor(model_path=None).rules),
                          {"DRUG"}, {"PROBLEM"}, CLASSIFIED)
    assert [label for _, label, _ in pairs] == ["causes_adverse_event"]  # haloperidol's pair only


def coordinated_pairs(text: str, mentions: list[tuple[str, str]], given: tuple[int, int]) -> set[tuple[str, str]]:
    extractor = RelationExtractor(model_path=None)
    doc = doc_with(text, mentions, sentences=[Span(0, len(text))])
    ctx = extractor.features.context(doc)
    extra = extractor.coordinated(ctx, [(*given, "causes_adverse_event", 0.9)])
    return {(doc.entities[i].text, doc.entities[j].text) for i, j, kind, score in extra
            if kind == "causes_adverse_event" and score == pytest.approx(0.9, rel=1e-9)}


def test_a_relation_passes_to_the_drugs_and_problems_coordinated_with_its_ends():
    text = "Cataract and glaucoma after methylphenidate (Ritalin) or atomoxetine, then rash, with aspirin."
    mentions = [("Cataract", "PROBLEM"), ("glaucoma", "PROBLEM"), ("methylphenidate", "DRUG"), ("Ritalin", "DRUG"),
                ("atomoxetine", "DRUG"), ("rash", "PROBLEM"), ("aspirin", "DRUG")]
    # given: methylphenidate -> glaucoma
    assert coordinated_pairs(text, mentions, (2, 1)) == {("Ritalin", "glaucoma"), ("methylphenidate", "Cataract")}
    # given: Ritalin -> Cataract: both of its neighbours ('(' before it, 'or' after it) get the problem
    assert coordinated_pairs(text, mentions, (3, 0)) == {("methylphenidate", "Cataract"), ("atomoxetine", "Cataract"),
                                                         ("Ritalin", "glaucoma")}


def test_a_problem_abbreviation_in_parentheses_does_not_take_the_relation():
    text = "Heparin-induced thrombocytopenia (HIT) was treated."
    mentions = [("Heparin", "DRUG"), ("thrombocytopenia", "PROBLEM"), ("HIT", "PROBLEM")]
    assert coordinated_pairs(text, mentions, (0, 1)) == set()


def test_a_pair_the_classifier_already_gave_is_not_repeated():
    text = "Rash after amoxicillin and clavulanate."
    mentions = [("Rash", "PROBLEM"), ("amoxicillin", "DRUG"), ("clavulanate", "DRUG")]
    extractor = RelationExtractor(model_path=None)
    doc = doc_with(text, mentions, sentences=[Span(0, len(text))])
    ctx = extractor.features.context(doc)
    given = [(1, 0, "causes_adverse_event", 0.9), (2, 0, "causes_adverse_event", 0.8)]
    assert extractor.coordinated(ctx, given) == []


def test_hyphenated_and_spaced_microgram_strengths_are_found():
    text = "She received an accidental 450-mg bolus of morphine, then 20 micro g of tacalcitol and 1-2 mg IV lorazepam."
    found = MedicationAttributes().find(Doc(text=text, sentences=[Span(0, len(text))]))
    assert {(e.text, e.label) for e in found if e.label == "STRENGTH"} == {
        ("450-mg", "STRENGTH"), ("20 micro g", "STRENGTH"), ("1-2 mg", "STRENGTH")}


def test_inh_is_a_route_in_an_order_but_not_where_it_names_isoniazid():
    found = {}
    for text in ("albuterol 90 mcg 2 puffs INH q4h prn", "Effluvium following INH therapy.", "INH, which causes rashes.",
                 "He was on INH and rifampin.", "INH-induced hepatitis.", "Started INH 300 mg daily."):
        doc = Doc(text=text, sentences=[Span(0, len(text))])
        found[text] = [e.text for e in MedicationAttributes().find(doc) if e.label == "ROUTE"]
    assert found == {"albuterol 90 mcg 2 puffs INH q4h prn": ["INH"], "Effluvium following INH therapy.": [],
                     "INH, which causes rashes.": [], "He was on INH and rifampin.": [], "INH-induced hepatitis.": [],
                     "Started INH 300 mg daily.": []}


def attribute_links(text: str, mentions: list[tuple[str, str]]) -> set[tuple[str, str, str]]:
    doc = doc_with(text, mentions, sentences=[Span(0, len(text))])
    return named(RelationExtractor(model_path=None)(doc).finalize())


def test_a_parenthesised_alias_shares_every_attribute_of_its_drug():
    text = "She took lamotrigine (LTG) 25 mg orally."
    assert attribute_links(text, [("lamotrigine", "DRUG"), ("LTG", "DRUG"), ("25 mg", "STRENGTH"), ("orally", "ROUTE")]) == {
        ("LTG", "has_strength", "25 mg"), ("lamotrigine", "has_strength", "25 mg"),
        ("LTG", "has_route", "orally"), ("lamotrigine", "has_route", "orally")}


def test_a_dose_without_a_number_outside_a_coordination_describes_each_drug_but_a_number_does_not():
    shared = attribute_links("Overdose with lamotrigine (LTG) and valproic acid.",
                             [("Overdose", "DOSE"), ("lamotrigine", "DRUG"), ("LTG", "DRUG"), ("valproic acid", "DRUG")])
    assert shared == {("lamotrigine", "has_dose", "Overdose"), ("LTG", "has_dose", "Overdose"),
                      ("valproic acid", "has_dose", "Overdose")}
    numbered = attribute_links("Took 25 mg sertraline and lamotrigine.",
                               [("25 mg", "STRENGTH"), ("sertraline", "DRUG"), ("lamotrigine", "DRUG")])
    assert numbered == {("sertraline", "has_strength", "25 mg")}
    inside = attribute_links("Oral indomethacin and low dose cyclophosphamide.",
                             [("indomethacin", "DRUG"), ("low dose", "DOSE"), ("cyclophosphamide", "DRUG")])
    assert inside == {("cyclophosphamide", "has_dose", "low dose")}
