"""Every PHI kind is found in planted text; eponyms and clinical fractions are left alone."""

import pytest

from notenlp.doc import Doc


def found(deid, text: str) -> dict[str, str]:
    """Detected PHI text -> type."""
    return {text[s.start:s.end]: s.type for s in deid.detect(text)}


@pytest.mark.parametrize("text, phi, phi_type", [
    ("Seen on 3/4 for f/u.", "3/4", "DATE"),
    ("Admitted 03/04/2101 from home.", "03/04/2101", "DATE"),
    ("Surgery on Jan 5th went well.", "Jan 5th", "DATE"),
    ("Biopsy 5-Jan-2101 was benign.", "5-Jan-2101", "DATE"),
    ("She returns on the 5th for labs.", "5th", "DATE"),
    ("Diagnosed in 1998 with DM.", "1998", "DATE"),
    ("Last seen 2101-3-4 in clinic.", "2101-3-4", "DATE"),
    ("Seen January 5, 2101 in clinic.", "January 5, 2101", "DATE"),
    ("Call 617-555-1234 with results.", "617-555-1234", "PHONE"),
    ("Fax: (617) 555-1234 today.", "(617) 555-1234", "PHONE"),
    ("SSN 123-45-6789 on file.", "123-45-6789", "ID"),
    ("MRN: 12345678 verified.", "12345678", "ID"),
    ("Acct#: A247682730 billed.", "A247682730", "ID"),
    ("License no. MA762993 noted.", "MA762993", "ID"),
    ("Device serial number: SN48213377 checked.", "SN48213377", "ID"),
    ("Member ID: BHP5512034 active.", "BHP5512034", "ID"),
    ("Son parked in ED bay, vehicle plate NY 5AK-827, asked to move.", "NY 5AK-827", "ID"),
    ("Drives herself; car (plate NJ 2WU-127) in lot.", "NJ 2WU-127", "ID"),
    ("Email john.doe@gmail.com for copies.", "john.doe@gmail.com", "EMAIL"),
    ("Portal at https://portal.example-hospital.org/login today.", "https://portal.example-hospital.org/login", "URL"),
    ("Logged in from 192.168.10.24 overnight.", "192.168.10.24", "IP"),
    ("Lives at 12 Oak Street, Boston, MA 02115.", "12 Oak Street", "LOCATION"),
    ("Pt is a 92 yo woman with CHF.", "92", "AGE"),
    ("Seen by Dr. Kowalczyk this am.", "Kowalczyk", "NAME"),
    ("Wife Mary at bedside.", "Mary", "NAME"),
    ("Spoke with Jennifer Lopez about plan.", "Jennifer Lopez", "NAME"),
    ("Note signed T. Rosenthal, MD", "T. Rosenthal", "NAME"),
    ("Lives in Worcester with son.", "Worcester", "LOCATION"),
    ("Transferred from Beth Israel Deaconess Medical Center.", "Beth Israel Deaconess Medical Center", "LOCATION"),
])
def test_planted_phi_is_found(tagger, text, phi, phi_type):
    assert found(tagger, text).get(phi) == phi_type


@pytest.mark.parametrize("text", [
    "Hx of Parkinson's disease and Wilson's disease.",
    "Bell's palsy resolved. Graves disease on methimazole.",
    "Hodgkin lymphoma in remission; Crohn's disease flare.",
    "Early Alzheimer dementia. Cushing syndrome ruled out.",
    "Foley catheter draining clear urine.",
    "Strength 5/5 throughout, 1/2 tab given, pain 4/10.",
    "Lasix 40mg IV given. Neuro: A&O x3. Plan: cont to monitor.",
    "Growth plate fracture; the plate was removed in surgery.",
])
def test_eponyms_and_clinical_text_survive(tagger, text):
    assert tagger.detect(text) == []


def test_eponym_as_a_person_with_title(tagger):
    assert found(tagger, "Discussed with Dr. Foley today.") == {"Foley": "NAME"}


def test_ages_under_90_are_not_phi(tagger):
    assert tagger.detect("Pt is a 67 yo man.") == []


def test_mimic_placeholders_are_typed_from_content(tagger):
    text = ("[**Last Name (NamePattern1) **] seen [**2101-3-4**] at [**Hospital1 18**], "
            "call [**Telephone/Fax (1) 1234**]. MRN [**Medical Record Number 555**]. Dr. ___ called.")
    spans = tagger.detect(text)
    types = [(text[s.start:s.end], s.type, s.source) for s in spans]
    assert types == [
        ("[**Last Name (NamePattern1) **]", "NAME", "placeholder"),
        ("[**2101-3-4**]", "DATE", "placeholder"),
        ("[**Hospital1 18**]", "LOCATION", "placeholder"),
        ("[**Telephone/Fax (1) 1234**]", "PHONE", "placeholder"),
        ("[**Medical Record Number 555**]", "ID", "placeholder"),
        ("___", "NAME", "placeholder"),
    ]


def test_offsets_index_the_input_text(surrogater):
    text = "Seen by Dr. Smith on 3/4/2101 (call 617-555-1234), wife Mary present."
    result = surrogater.deidentify(Doc(text, note_id=1, person_id=3, note_date="2101-03-10"))
    assert [text[s.start:s.end] for s in result.phi] == ["Smith", "3/4/2101", "617-555-1234", "Mary"]
    assert len(result.replacements) == len(result.phi)
    rebuilt, cursor = [], 0
    for span, replacement in zip(result.phi, result.replacements):
        rebuilt += [text[cursor:span.start], replacement]
        cursor = span.end
    assert "".join(rebuilt) + text[cursor:] == result.text


def test_call_sets_doc_phi_only(tagger):
    doc = Doc("Seen by Dr. Smith.", note_id=1)
    out = tagger(doc)
    assert out.text == "Seen by Dr. Smith."
    assert [(s.start, s.end, s.type) for s in out.phi] == [(12, 17, "NAME")]
