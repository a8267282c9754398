"""The fast first-character form of each PHI pattern finds exactly what the plain pattern finds."""

import json
import re

import pytest

from notenlp.deid.features import TOKEN_RE, tokenize
from notenlp.deid.resources import WHOLE, anchor_on_first_char, expand_macros, load_patterns
from notenlp.demo.generator import iter_demo_notes
from notenlp.resources import resource_path

SPEC = json.loads(resource_path("deid", "patterns.json").read_text(encoding="utf-8"))
ANCHORED = [p for p in SPEC["patterns"] if p.get("first")]

# Each pattern's kind of PHI in upper, lower and mixed case, at the very start and end of the text,
# after punctuation, overlapping one another, and next to the look-around context the patterns test.
TRICKY = [
    "DOB 3/14/2099; seen 03.14.99 and 2099-03-14. On 12-25 at 14:30 pm, 3/4 strength, 1/2 tab.",
    "MRN: AB123456, mrn 1234567, Acct # 99-123-456, SSN 123-45-6789, cc 4111 1111 1111 1111.",
    "Call 617-555-0100 x1234, (617) 555-0199, +1 617 555 0100, pager 12345, tel: 555-0100.",
    "ip 192.168.0.1, 2001:DB8::1, FE80::0202:B3FF:FE1E:8329, www.Example.ORG/x, a@B.com",
    "JANUARY 3RD, 2099; jan. 5, '99; 3 Mar 2099; the 4th of July; Sept 2099; May 2099; may 3; on the 21st",
    "cabg 1999, quit in 2001, in the 1990s (2005) 1999-2003. 95 yo female, aged 101, in her late nineties.",
    "Lives at 12 Main Street, Apt 4, Springfield, MA 01103; PO Box 55; zip code 02115. Insurance: Blue Cross",
    "Plate ABC12345 IBAN DE44500105175407324931 \u017fsn \u0130N 1990 \u212aAREN",
    "Nov 3, Dec 12 2099, Oct. 9; DEAD::BEEF:1 and CAFE::1; a 101-year-old man, 93 yo m; Until the 2nd; December 2099 in Albany, NY",
    "4111-1111-1111-1111",
    "12/31",
]


@pytest.mark.parametrize("pattern", ANCHORED, ids=[p["name"] for p in ANCHORED])
def test_anchored_pattern_matches_plain_pattern(pattern):
    source = expand_macros(pattern["regex"], SPEC["macros"])
    plain = re.compile(source, re.IGNORECASE)
    fast = re.compile(anchor_on_first_char(source, pattern["first"]))
    texts = TRICKY + [note["text"] for note in iter_demo_notes(40, seed=11)]
    for text in texts:
        expected = [(m.span(), m.groupdict()) for m in plain.finditer(text)]
        found, last_end = [], 0
        for m in fast.finditer(text):
            if m.start(WHOLE) < last_end:
                continue
            last_end = m.end(WHOLE)
            groups = {k: v for k, v in m.groupdict().items() if k != WHOLE}
            found.append((m.span(WHOLE), groups))
        assert found == expected


def test_first_class_covers_case_folding():
    fast = re.compile(anchor_on_first_char("sept", "s"))
    assert [m.group(WHOLE) for m in fast.finditer("SEPT sept \u017fept")] == ["SEPT", "sept", "\u017fept"]


def test_loaded_patterns_are_anchored_where_a_first_class_is_given():
    loaded = load_patterns()
    enabled = [p for p in SPEC["patterns"] if not p.get("optional")]
    assert len(loaded) == len(enabled)
    assert [p.anchored for p in loaded] == [bool(p.get("first")) for p in enabled]


def test_tokenize_gives_the_token_re_matches():
    texts = TRICKY + ["\tDr.\u00a0O\u2019Brien\r\n  x\u00b2 _ __ 5mg\u2009q6h\x0bend ", ""]
    texts += [note["text"] for note in iter_demo_notes(20, seed=5)]
    for text in texts:
        assert tokenize(text) == [(m.start(), m.end(), m.group()) for m in TOKEN_RE.finditer(text)]
