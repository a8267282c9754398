import re

import pytest

from notenlp.annotate.medications import MedicationAttributes
from notenlp.annotate.start_chars import StartCharRegex, first_char_class

TEXT = ("MEDICATIONS: 1. Metformin 500 mg PO BID x 7 days; amoxicillin 250mg/5mL susp 10 mL p.o. q.d.\n"
        "INH 300 mg daily, IV fluids, Stage IV. 120/80 mmHg, 2.5%cream, one-half tab q6h prn.12 mg "
        "×3 doses, 1.5mg/kg IVPB q8h; .5 mg SL; Ab 5mg. IM\n")


@pytest.mark.parametrize("pattern, flags, expected", [
    (r"(?<!\w)(?:abc|d\d+)(?!\w)", 0, r"[ad]"),
    (r"(?<![\w.])(?:\d+(?:\.\d+)?|\.\d+|one)\s*mg", 0, r"[\.\do]"),
    (r"(?:x)?y+", 0, r"[xy]"),
    (r"(?-i:[A-Z][a-z]+):", re.IGNORECASE, r"[A-Z]"),
    (r"a*", 0, None),  # matches the empty string: any position can start a match
    (r"[^a]b", 0, None),  # a negated class
    (r"abc", re.IGNORECASE, None),  # case folding reaches beyond the written letters (K, KELVIN SIGN)
])
def test_first_char_class(pattern, flags, expected):
    assert first_char_class(pattern, flags) == expected


@pytest.mark.parametrize("pattern, flags", [
    (r"(?<!\w)(?:ab|a|b\w*)(?!\w)", 0),
    (r"(?<![\w.])\d+(?:[.,/]\d+)*\s*(?:mg|ml)(?!\w)", 0),
    (r"(?<!\w)(?:(?P<one>(?-i:[A-Z]{2,})(?=\s))|(?P<two>\d{1,2}\)))", re.IGNORECASE),
])
@pytest.mark.parametrize("pos, endpos", [(0, len(TEXT)), (17, 60), (40, 41), (100, 150)])
def test_same_matches_as_re(pattern, flags, pos, endpos):
    plain, guarded = re.compile(pattern, flags), StartCharRegex(pattern, flags)
    assert guarded.guard is not None
    expected = [(m.span(), m.lastgroup) for m in plain.finditer(TEXT, pos, endpos)]
    assert [(m.span(), m.lastgroup) for m in guarded.finditer(TEXT, pos, endpos)] == expected


def test_medication_rules_match_as_plain_regexes():
    lowered = TEXT.lower()
    for rule in MedicationAttributes().rules:
        haystack = TEXT if rule.case_sensitive else lowered
        plain = rule.regex.regex
        for pos, endpos in [(0, len(TEXT)), (30, 95), (96, 180)]:
            assert ([m.span() for m in rule.regex.finditer(haystack, pos, endpos)]
                    == [m.span() for m in plain.finditer(haystack, pos, endpos)]), rule.label
