import pytest

from notenlp.annotate.sentences import SentenceSplitter
from notenlp.doc import Doc


@pytest.fixture(scope="module")
def split():
    splitter = SentenceSplitter()
    return lambda text: [text[s.start:s.end] for s in splitter.split(text)]


def test_abbreviations_do_not_end_sentences(split):
    text = "65 yo M s/p CABG, h/o DM2, c/o SOB x 2 days 2/2 CHF. Dr. Smith saw him. Metformin 500 mg p.o. b.i.d. was continued."
    assert split(text) == [
        "65 yo M s/p CABG, h/o DM2, c/o SOB x 2 days 2/2 CHF.",
        "Dr. Smith saw him.",
        "Metformin 500 mg p.o. b.i.d. was continued.",
    ]


def test_decimals_and_q_d(split):
    assert split("Temp 98.6 and INR 2.5 today. Aspirin 81 mg q.d. Continue.") == [
        "Temp 98.6 and INR 2.5 today.", "Aspirin 81 mg q.d. Continue."]


def test_numbered_list_lines_are_sentences(split):
    text = "PAST MEDICAL HISTORY:\n1. Hypertension\n2. Diabetes mellitus type 2\n3. Hyperlipidemia"
    assert split(text) == ["PAST MEDICAL HISTORY:", "1. Hypertension", "2. Diabetes mellitus type 2", "3. Hyperlipidemia"]


def test_inline_numbered_list_splits_before_each_number(split):
    assert split("MEDICATIONS: 1. Metformin 500 mg PO BID 2. Lisinopril 10 mg daily") == [
        "MEDICATIONS:", "1. Metformin 500 mg PO BID", "2. Lisinopril 10 mg daily"]


def test_header_with_text_is_split_from_its_text(split):
    assert split("HPI: Patient denies chest pain.") == ["HPI:", "Patient denies chest pain."]
    # a colon after ordinary words is not a header
    assert split("Pt denies: chest pain.") == ["Pt denies: chest pain."]


def test_vitals_lines_stay_separate_and_wrapped_prose_joins(split):
    text = ("Vitals: BP 120/80 HR 72\nRR 16 SpO2 98% RA\n"
            "The patient was seen and examined at bedside and he reports that his pain\n"
            "is better than yesterday and he is tolerating a diet.")
    assert split(text) == [
        "Vitals:", "BP 120/80 HR 72", "RR 16 SpO2 98% RA",
        "The patient was seen and examined at bedside and he reports that his pain\n"
        "is better than yesterday and he is tolerating a diet.",
    ]


def test_run_on_template_text_is_cut(split):
    text = " ".join(["word"] * 400)
    pieces = split(text)
    assert len(pieces) > 1 and all(len(p) <= 600 for p in pieces)
    assert " ".join(pieces) == text


def test_component_sets_doc_sentences():
    doc = SentenceSplitter()(Doc(text="No fever.  No chills."))
    assert [(s.start, s.end) for s in doc.sentences] == [(0, 9), (11, 21)]
