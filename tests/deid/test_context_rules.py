"""Issue #21: PHI told by the words around it (name_context, place_context), and look-alikes left alone."""

import pytest

from tests.deid.test_detection import found


@pytest.mark.parametrize("text, phi, phi_type", [
    # names beside a found name, in brackets after a service or role word, before a name's follower
    ("hcp is niece margaret okafor, aware", "margaret okafor", "NAME"),
    ("PT: OKONKWO, TADHG   DOB 1/2/1930", "TADHG", "NAME"),
    ("renal (ndukwe) following, hd in am", "ndukwe", "NAME"),
    ("covering md (oyelaran) made aware", "oyelaran", "NAME"),
    ("thandiwe and siddharth visited today", "siddharth", "NAME"),
    ("talked at length with yevgenia re: dnr status", "yevgenia", "NAME"),
    ("handed off to kwabena, rn", "kwabena", "NAME"),
    ("mr. adeyemi-clarke oriented to person only", "adeyemi-clarke", "NAME"),
    ("left msg for crystal on cell", "crystal", "NAME"),
    # facilities, towns and wards by their cues, in any case
    ("pt sent from good samaritan medical center ed for ich", "good samaritan medical center", "LOCATION"),
    ("screening for kindred waltham vs home", "kindred waltham", "LOCATION"),
    ("prev at life care center of stoneham", "life care center of stoneham", "LOCATION"),
    ("PT CAME OVER FROM SALEM HOSPITAL BY MEDFLIGHT", "SALEM HOSPITAL", "LOCATION"),
    ("pt lives with son in methuen", "methuen", "LOCATION"),
    ("will go to White 10 once bed avail", "White 10", "LOCATION"),
    ("pt moving to clinical center 8 later today", "clinical center 8", "LOCATION"),
    ("SMH RECORDS REQUESTED", "SMH", "LOCATION"),
    ("admitted to MWH 9/4, txf here", "MWH", "LOCATION"),
    # dates and phones in nursing shorthand
    ("previous mi '06 and cabg x3 84", "84", "DATE"),
    ("picc 6-27 (rue)", "6-27", "DATE"),
    ("sister lives in 508 area", "508", "PHONE"),
    ("page ortho at 9585", "9585", "PHONE"),
    ("hx ptca 92, pacemaker 98", "98", "DATE"),
    ("last admit may 1 for chf", "may 1", "DATE"),
    ("pt is 95, widowed", "95", "AGE"),
    ("28245 Puruntie 82 Apt. 595", "28245 Puruntie 82", "LOCATION"),
])
def test_phi_found_by_context(tagger, text, phi, phi_type):
    assert found(tagger, text).get(phi) == phi_type


@pytest.mark.parametrize("text", [
    "d/c to home w/ vna services",
    "ngt to lcws, 200cc bilious",
    "in leukemic children treated with vincristine",
    "transferred to a tertiary care center for ecmo",
    "levo titrated up to 10 mcg, weaned to ps 10",
    "page covering md at 1400 if sbp < 90",
    "transferred to icu 2 days ago",
    "Strength 3/5 ble, grips equal",
    "pain 5-7/10 with turning",
    "pt may 2 tabs of oxycodone",
])
def test_look_alikes_left_alone(tagger, text):
    assert tagger.detect(text) == []
