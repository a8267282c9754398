"""Condition vocabulary from ICD-10-CM (the ``simple-icd-10-cm`` package) as word features.

The corpora's training parts name a few thousand diseases; ICD-10-CM's ~98,000 code titles
use the words that name most conditions ("chorea", "rubella", "flatulence"). Each word gets
a band of how often the titles use it, a property of the word form alone, so the CRF can tell
"chorea" (rare, all condition) from "of" (everywhere) at no cost per token.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

_WORD = re.compile(r"[^\W_]+")


@functools.lru_cache(maxsize=1)
def icd10cm_word_bands() -> dict[str, int]:
    """Lowercased word of the ICD-10-CM titles -> band of its title count (0: once, 1: under 10, ...)."""
    import simple_icd_10_cm as icd

    counts = Counter(word.lower() for code in icd.get_all_codes(True)
                     for word in _WORD.findall(icd.get_description(code)) if not word.isdigit())
    return {word: min(int(math.log10(count) + (count > 1)), 4) for word, count in counts.items() if len(word) > 1}
