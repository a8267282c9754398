from notenlp.annotate.sections import SectionDetector

NOTE = """CHIEF COMPLAINT: chest pain.
HPI: 65 yo M with CHF.
PMH:
1. Hypertension
Family Hx: Mother with breast cancer.
PHYSICAL EXAM
Gen: NAD.  ASSESSMENT AND PLAN: CHF exacerbation.
Allergies: NKDA
"""


def test_headers_spellings_and_ranges():
    sections = SectionDetector().detect(NOTE)
    assert [(s.name, s.header) for s in sections] == [
        ("chief_complaint", "CHIEF COMPLAINT"),
        ("history_of_present_illness", "HPI"),
        ("past_medical_history", "PMH"),
        ("family_history", "Family Hx"),
        ("physical_exam", "PHYSICAL EXAM"),
        ("assessment_and_plan", "ASSESSMENT AND PLAN"),
        ("allergies", "Allergies"),
    ]
    for current, following in zip(sections, sections[1:]):
        assert current.end == following.start
        assert NOTE[current.start:].startswith(current.header)
    assert sections[-1].end == len(NOTE)


def test_words_that_are_not_headers():
    # "PE" alone is too short for a bare header; lower-case words alone on a line are not headers
    assert SectionDetector().detect("PE\nplan\nHe has a plan: rest.") == []


def test_loinc_codes_kept_in_rules():
    detector = SectionDetector()
    assert detector.loinc["family_history"] == "10157-6"
    assert detector.loinc["history_of_present_illness"] == "10164-2"
