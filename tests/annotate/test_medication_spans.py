"""Span conventions of the medication attributes (n2c2 2018 / i2b2 2009 medication annotation)."""
import pytest


@pytest.mark.parametrize("text, expected", [
    ("Oxycodone 5 mg PO q6h prn pain", [("STRENGTH", "5 mg"), ("ROUTE", "PO"), ("FREQUENCY", "q6h prn")]),
    ("Morphine 2 mg IV q4-6h PRN", [("STRENGTH", "2 mg"), ("ROUTE", "IV"), ("FREQUENCY", "q4-6h PRN")]),
    ("Tylenol 650 mg by mouth every 4 hours as needed for fever",
     [("STRENGTH", "650 mg"), ("ROUTE", "by mouth"), ("FREQUENCY", "every 4 hours as needed")]),
    ("Zofran 4 mg IV as needed", [("STRENGTH", "4 mg"), ("ROUTE", "IV"), ("FREQUENCY", "as needed")]),
])
def test_prn_belongs_to_its_frequency(attributes, text, expected):
    assert attributes(text) == expected


@pytest.mark.parametrize("text, strength", [
    ("Norco 325/7.5 mg po q6h", "325/7.5 mg"),
    ("NyQuil 21.7/1/0.417 mg/mL po qhs", "21.7/1/0.417 mg/mL"),
    ("estradiol-etonogestrel ring 0.000625/0.005 mg/hr PV once daily", "0.000625/0.005 mg/hr"),
])
def test_combination_strengths_are_one_span(attributes, text, strength):
    assert ("STRENGTH", strength) in attributes(text)


@pytest.mark.parametrize("text, form", [
    ("Tylenol 160 mg chew tab q6h", "chew tab"),
    ("oxycodone 10 mg ER tablet q12h", "ER tablet"),
    ("fentanyl 0.025 mg/hr transdermal patch every 72 hours", "transdermal patch"),
    ("amoxicillin 250 mg/5 mL oral suspension 5 mL po tid", "oral suspension"),
    ("Mirena 0.02 mg/24hr intrauterine system, 1 device intrauterine", "intrauterine system"),
    ("fluticasone 0.044 mg/puff MDI 2 puffs bid", "MDI"),
    ("albuterol 2.5 mg/3 mL nebulizer solution 1 neb q4h", "nebulizer solution"),
    ("cephalexin 500 mg cap po qid", "cap"),
])
def test_dosage_forms(attributes, text, form):
    assert ("FORM", form) in attributes(text)


def test_doses_and_routes_of_devices_and_topicals(attributes):
    assert attributes("NuvaRing 1 ring PV q month. Nexplanon 68 mg subdermal once. "
                      "Hydrocortisone cream thin layer TOP bid") == [
        ("DOSE", "1 ring"), ("ROUTE", "PV"), ("STRENGTH", "68 mg"), ("ROUTE", "subdermal"), ("FREQUENCY", "once"),
        ("FORM", "cream"), ("DOSE", "thin layer"), ("ROUTE", "TOP"), ("FREQUENCY", "bid")]
    assert ("ROUTE", "via inhaler") in attributes("albuterol 2 puffs via inhaler q4h")


def test_product_forms_without_other_attributes(attributes):
    assert attributes("She was started on a fentanyl patch. Continue hydrocortisone cream.") == [
        ("FORM", "patch"), ("FORM", "cream")]
    assert attributes("Breast implant intact. Consider IUD insertion. Patch of erythema on the arm.") == []


def test_look_alikes_are_not_attributes(attributes):
    # a route of contrast, an intrauterine pregnancy, a phone number before a "CC:" header, "PV" alone
    assert attributes("CT abdomen with IV contrast.") == []
    assert attributes("Intrauterine pregnancy at 8 weeks by ultrasound.") == []
    assert attributes("Pager 617-555-0140\n\nCC: Wheezing") == []
    assert attributes("History of PV on phlebotomy.") == []


@pytest.mark.parametrize("text, strength", [
    ("lorazepam 0.5 to 1 mg po q6h", "0.5 to 1 mg"),
    ("valproate 300 to 600 mg/day", "300 to 600 mg/day"),
    ("vancomycin 15 mg/kg/dose q12h", "15 mg/kg/dose"),
    ("methotrexate 100 mg/m2/d", "100 mg/m2/d"),
    ("clonidine 5.0 microg/kg", "5.0 microg/kg"),
])
def test_ranges_and_weight_based_strengths(attributes, text, strength):
    assert ("STRENGTH", strength) in attributes(text)


def test_dose_ranges(attributes):
    assert attributes("Tylenol 1-2 tabs po q6h prn") == [("DOSE", "1-2 tabs"), ("ROUTE", "po"), ("FREQUENCY", "q6h prn")]
