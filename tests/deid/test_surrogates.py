"""Surrogates: consistent within a person, different across persons, dates shifted with intervals kept."""

import re
from datetime import date

from notenlp.deid import Deidentifier
from notenlp.deid.residual import find_residual
from notenlp.doc import Doc

from .conftest import SECRET


def deid(deidentifier, text, person, note_id=1, note_date="2101-03-10"):
    return deidentifier.deidentify(Doc(text, note_id=note_id, person_id=person, note_date=note_date))


def test_tag_mode_writes_type_tags(tagger):
    result = deid(tagger, "Seen by Dr. Smith on 3/4/2101, call 617-555-1234.", 1)
    assert result.text == "Seen by Dr. [NAME] on [DATE], call [PHONE]."
    assert result.date_shift_days is None


def test_same_name_same_surrogate_across_a_persons_notes(surrogater):
    first = deid(surrogater, "Seen by Dr. Smith today.", person=7, note_id=1)
    second = deid(surrogater, "Dr. Smith called back.", person=7, note_id=2)
    assert first.replacements == second.replacements
    assert first.replacements[0] != "Smith" and first.replacements[0][0].isupper()


def test_surrogates_consistent_across_workers_with_the_same_secret(surrogater):
    other_worker = Deidentifier(mode="surrogate", secret_hex=SECRET)
    text = "Wife Mary called 617-555-1234 on 3/4/2101."
    assert deid(surrogater, text, 9).text == deid(other_worker, text, 9).text


def test_surrogates_differ_across_persons(surrogater):
    texts = {deid(surrogater, "Seen by Dr. Smith; wife Mary; MRN: 12345678.", person).text for person in range(6)}
    assert len(texts) == 6


def test_dates_shift_by_one_offset_per_person_keeping_intervals_and_formats(surrogater):
    text = "Admitted 03/04/2101, surgery 2101-03-14, follow-up Mar 24, 2101."
    result = deid(surrogater, text, person=11)
    shift = result.date_shift_days
    assert -3650 <= shift <= -365
    first, second, third = result.replacements
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", first)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", second)
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", third)
    d1 = date(int(first[6:]), int(first[:2]), int(first[3:5]))
    d2 = date.fromisoformat(second)
    assert (d2 - d1).days == 10
    assert d1 == date(2101, 3, 4).fromordinal(date(2101, 3, 4).toordinal() + shift)
    assert deid(surrogater, "Seen 3/4/2101.", person=11, note_id=5).date_shift_days == shift


def test_surrogates_never_look_like_residual_phi(surrogater):
    text = "Call 617-555-1234, SSN 123-45-6789, john@gmail.com, www.mgh.org, MRN: 12345678."
    result = deid(surrogater, text, person=2)
    assert find_residual(text)  # the original is caught ...
    assert find_residual(result.text) == []  # ... and the surrogates fall in reserved ranges
