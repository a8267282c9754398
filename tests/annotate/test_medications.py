import pytest

from notenlp.annotate.medications import MedicationAttributes
from notenlp.doc import Doc, Span


def test_medication_list(attributes):
    text = ("MEDICATIONS:\n1. Metformin 500 mg PO BID x 7 days\n"
            "2. Amoxicillin 250mg/5mL suspension 10 mL by mouth q.d. for 2 weeks\n"
            "3. Albuterol inhaler 2 puffs q6h PRN wheezing\n4. Insulin glargine 10 units SC nightly\n")
    assert attributes(text) == [
        ("STRENGTH", "500 mg"), ("ROUTE", "PO"), ("FREQUENCY", "BID"), ("DURATION", "x 7 days"),
        ("STRENGTH", "250mg/5mL"), ("FORM", "suspension"), ("DOSE", "10 mL"), ("ROUTE", "by mouth"),
        ("FREQUENCY", "q.d."), ("DURATION", "for 2 weeks"),
        ("FORM", "inhaler"), ("DOSE", "2 puffs"), ("FREQUENCY", "q6h PRN"),
        ("DOSE", "10 units"), ("ROUTE", "SC"), ("FREQUENCY", "nightly"),
    ]


def test_prose_sentence_with_anchor(attributes):
    assert attributes("Started lisinopril 10 mg tablet once daily for 30 days.") == [
        ("STRENGTH", "10 mg"), ("FORM", "tablet"), ("FREQUENCY", "once daily"), ("DURATION", "for 30 days")]


def test_look_alikes_outside_medication_context(attributes):
    # no anchor in these sentences, no medication section: "daily", "IV", "PR", "mg/dL" are not attributes
    assert attributes("Stage IV lung cancer. PR interval is normal. Glucose 140 mg/dL. She walks daily.") == []


def test_docs_with_targets_are_left_alone():
    doc = Doc(text="Metformin 500 mg PO BID", targets=[Span(0, 9)])
    assert MedicationAttributes()(doc).entities == []
