"""Condition vocabulary from ICD-10-CM (the ``simple-icd-10-cm`` package) and drug names
(the ``drug-named-entity-recognition`` package) as word features.

The corpora's training parts name a few thousand diseases; ICD-10-CM's ~98,000 code titles
use the words that name most conditions ("chorea", "rubella", "flatulence"). Each word gets
a band of how often the titles use it, a property of the word form alone, so the CRF can tell
"chorea" (rare, all condition) from "of" (everywhere) at no cost per token.

Adjacent word pairs of the titles ("secondary hyperparathyroidism", "migraine with aura") say
where a condition name goes on: the CRF sees whether a token and its neighbour form such a
pair, which bears on where a mention starts and ends (most disease boundary errors are one
modifier too many or too few). The tagger folds their weights into its word-pair table, so
they too cost nothing per token.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

_WORD = re.compile(r"[^\W_]+")
_LETTER = re.compile(r"[^\W\d_]")


def _band(count: int) -> int:
    return min(int(math.log10(count) + (count > 1)), 4)


def icd10cm_titles() -> list[str]:
    """The titles of all ICD-10-CM codes and categories."""
    import simple_icd_10_cm as icd

    return [icd.get_description(code) for code in icd.get_all_codes(True)]


@functools.lru_cache(maxsize=1)
def icd10cm_word_bands() -> dict[str, int]:
    """Lowercased word of the ICD-10-CM titles -> band of its title count (0: once, 1: under 10, ...)."""
    counts = Counter(word.lower() for title in icd10cm_titles() for word in _WORD.findall(title) if not word.isdigit())
    return {word: _band(count) for word, count in counts.items() if len(word) > 1}


@functools.lru_cache(maxsize=1)
def icd10cm_pair_bands() -> dict[str, int]:
    """"first second" (lowercased adjacent tokens of the ICD-10-CM titles, as the NER tokenizer
    splits them, both with a letter) -> band of its title count."""
    from notenlp.ner.tokenize import tokenize

    counts: Counter[str] = Counter()
    for title in icd10cm_titles():
        words = [token[0].lower() for token in tokenize(title)]
        counts.update(f"{a} {b}" for a, b in zip(words, words[1:]) if _LETTER.search(a) and _LETTER.search(b))
    return {pair: _band(count) for pair, count in counts.items()}


@functools.lru_cache(maxsize=1)
def drug_name_words() -> list[str]:
    """Drug names of one token (lowercase letters and digits, at least 4 letters), from the
    dictionary of the ``drug-named-entity-recognition`` package (DrugBank open vocabulary,
    MeSH, MedlinePlus, NHS and Wikipedia names and synonyms): most chemicals of new text were
    never seen in training ("iohexol", "remifentanil"), and a name list says a word is one."""
    import bz2
    import pickle
    from importlib.resources import files

    from drug_named_entity_recognition.util import stopwords

    with bz2.open(files("drug_named_entity_recognition").joinpath("drug_ner_dictionary.pkl.bz2").open("rb")) as f:
        variants = pickle.load(f)["drug_variant_to_canonical"]
    return sorted(name for name in variants if _WORD.fullmatch(name) and sum(c.isalpha() for c in name) >= 4
                  and name not in stopwords)
