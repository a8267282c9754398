"""Issue #21 failure catalogue: PHI as real nursing notes write it, and nursing shorthand that is no PHI."""

import pytest

from tests.deid.test_detection import found


@pytest.mark.parametrize("text, phi, phi_type", [
    ("spoke with bill re: plan of care", "bill", "NAME"),
    ("dtr susan called for update", "susan", "NAME"),
    ("per dr smith will cont current plan", "smith", "NAME"),
    ("SPOKE WITH DR JONES, AWARE.", "JONES", "NAME"),
    ("wife (jane) at bedside", "jane", "NAME"),
    ("hcp is sister margaret okafor, updated", "margaret okafor", "NAME"),
    ("pt stevenson sleeping, easily arousable", "stevenson", "NAME"),
    ("gallagher, hiroshi - npn", "gallagher", "NAME"),
    ("ray (wife) visiting this evening", "ray", "NAME"),
    ("MI in '92, on asa since.", "'92", "DATE"),
    ("s/p cabg in 84 and stable since", "84", "DATE"),
    ("picc placed 8-23 without issue", "8-23", "DATE"),
    ("son calls from 774 area code", "774", "PHONE"),
    ("renal fellow x4521 paged", "4521", "PHONE"),
    ("call office ext 4567 with questions", "4567", "PHONE"),
    ("transferred from MGH for cath", "MGH", "LOCATION"),
    ("came from bidmc overnight", "bidmc", "LOCATION"),
    ("pt lives in framingham with dtr", "framingham", "LOCATION"),
    ("transferred from osh (lowell general hospital) for ercp", "lowell general hospital", "LOCATION"),
    ("to finard 4 when bed available", "finard 4", "LOCATION"),
])
def test_nursing_phi_is_found(tagger, text, phi, phi_type):
    assert found(tagger, text).get(phi) == phi_type


@pytest.mark.parametrize("text", [
    "Aline placed. Levo at 0.1. Fent gtt at 50. Nitro off.",
    "aline placed, levo at .1, fent gtt, neo weaned off",
    "Pt from OSH. OSH records reviewed.",
    "Sinus Brady 50s, no ectopy.",
    "Pt tolerating PS 10/5 w/ TV 400s, weaned to 10/5 this am.",
    "strength 4/5 RUE, 5/5 LUE, grips 4/5, pain 7/10",
    "sleeping well.no complaints, phos 3.5.pt is dnr",
    "PT C/O CP OVERNIGHT, D/W TEAM.",
    "HR in 80, sats in 90, RR 20, in 10 minutes",
    "acetaminophen 160 mg chew tab qd",
    "given 500-1000 cc NS, range 100-1000",
    "she was alert, oriented, and pleasant; bright red or tarry black stools",
])
def test_nursing_shorthand_is_left_alone(tagger, text):
    assert tagger.detect(text) == []


def test_everyday_word_names_need_a_cue(tagger):
    assert found(tagger, "wife rose at bedside") == {"rose": "NAME"}
    assert tagger.detect("temp rose to 101.2 overnight") == []


@pytest.mark.parametrize("text, phi, phi_type", [
    # wards by their cue or the ward word after them, in any case
    ("bed assigned on pemberton 6", "pemberton 6", "LOCATION"),
    ("was on Pemberton 6 prior to micu", "Pemberton 6", "LOCATION"),
    ("pt was on Halloran ward before transfer", "Halloran", "LOCATION"),
    ("back to halloran unit when stable", "halloran", "LOCATION"),
    # hospital abbreviations no clinical vocabulary knows, after a cue or before ED / records / films
    ("came from JMH ED after fall", "JMH", "LOCATION"),
    ("outside films from RGH reviewed", "RGH", "LOCATION"),
    ("from rgh ed w/ gi bleed", "rgh", "LOCATION"),
    ("RGH records requested", "RGH", "LOCATION"),
    # towns after residence cues
    ("originally from Wickford", "Wickford", "LOCATION"),
    ("came in by ems from wickford", "wickford", "LOCATION"),
])
def test_wards_hospital_abbreviations_and_towns_by_their_cues(tagger, text, phi, phi_type):
    assert found(tagger, text).get(phi) == phi_type


@pytest.mark.parametrize("text", [
    "tx from ICU to floor, from CT back to unit",
    "pt returned from MRI, seen at ED for cp",
    "transferred from OR to PACU",
    "platelet counts on POD 7, 14 and 21",
    "an agent that is inactive at gaba(a)rs",
    "on lasix 40, on coreg 25 bid",
    "transferred to step down unit, then to the medical floor",
])
def test_care_units_and_abbreviations_after_place_cues_are_left_alone(tagger, text):
    assert tagger.detect(text) == []


@pytest.mark.parametrize("text, phi", [
    ("as per bright, hold tf for procedure", "bright"),  # everyday-word surname after "per", where a name ends
    ("report rec'd from castle, rn", "castle"),
    ("paged hammer re: k 3.2", "hammer"),
    ("per adebayo, hold tf", "adebayo"),  # a word no vocabulary knows after a naming cue
    ("wife oluwaseun adebayo at bedside", "oluwaseun adebayo"),
    ("dr cannon here, cannon aware of plan", "cannon"),  # found once by its cue, again where it repeats
])
def test_names_by_cue_shape_and_repetition(tagger, text, phi):
    assert found(tagger, text).get(phi) == "NAME"
    if text.count(phi) > 1:
        assert [text[s.start:s.end] for s in tagger.detect(text) if s.type == "NAME"] == [phi] * text.count(phi)


@pytest.mark.parametrize("text", [
    "fever associated with chill, temperature elevation",
    "given by mouth, tolerated; per protocol, k repleted; called family, updated",
    "pt to be seen by ortho, aware",
])
def test_weak_cues_before_everyday_words_stay(tagger, text):
    assert tagger.detect(text) == []


@pytest.mark.parametrize("text, phi, phi_type", [
    ("CCU NPN 7/18\nstrength 4/5 ble", "7/18", "DATE"),  # a score word on the next line is not about the date
    ("ccu npn 9-5\na/p: aline r radial", "9-5", "DATE"),
    ("transferred from osh (harlow and dean's) for ercp", "harlow and dean's", "LOCATION"),
    ("pt came up from FARR 10 at 0300", "FARR 10", "LOCATION"),
    ("to deaconess 3 when bed available", "deaconess 3", "LOCATION"),
    ("MR# 11840502, foley changed", "11840502", "ID"),
    ("call bill at (508)283-7253 w/ any changes", "bill", "NAME"),
])
def test_dates_facilities_wards_and_ids_in_telegraphic_lines(tagger, text, phi, phi_type):
    assert found(tagger, text).get(phi) == phi_type


@pytest.mark.parametrize("text", [
    "from osh (intubated there)", "from osh (cath lab)", "seen at osh (cardiac surgery)", "tx from osh (see below)",
])
def test_brackets_after_facility_cues_need_a_place_word(tagger, text):
    assert tagger.detect(text) == []


@pytest.mark.parametrize("text, phi, phi_type", [
    ("dx'd 2/98 w/ breast ca", "2/98", "DATE"),  # month / two-digit year that cannot be a day
    ("s/p appy 1979, no issues since", "1979", "DATE"),
    ("pager 4-1234 for questions", "4-1234", "PHONE"),
])
def test_month_year_history_years_and_short_pagers(tagger, text, phi, phi_type):
    assert found(tagger, text).get(phi) == phi_type


def test_titers_and_pressures_are_no_month_year(tagger):
    assert "1/80" not in found(tagger, "titer 1/80, dilution 1/40")
    assert tagger.detect("bp 120/98, hr 88") == []
