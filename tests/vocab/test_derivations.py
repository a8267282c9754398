"""Rewrites of real phrasings into the forms vocabulary names use (notenlp.vocab.derivations), alone and in the
normalizer on the tiny test vocabulary."""

from __future__ import annotations

import pytest

from notenlp.vocab.derivations import Derivations
from notenlp.vocab.normalizer import Normalizer
from notenlp.vocab.text import norm_tokens


@pytest.fixture(scope="module")
def derivations():
    return Derivations(frozenset({"hypoxia", "asystole", "cirrhosis", "heart", "failure"}),
                       frozenset({"right", "left", "acute"}))


def _rewrites(derivations, phrase: str) -> list[str]:
    return [" ".join(tokens) for tokens in derivations.rewrites(norm_tokens(phrase))]


def test_short_forms_are_written_out_and_qualifiers_dropped(derivations):
    rewrites = _rewrites(derivations, "OA of the right knee")
    assert rewrites[0] == "osteoarthritis of the right knee"
    assert "osteoarthritis of the knee" in rewrites
    assert "e coli" not in " ".join(_rewrites(derivations, "E. coli UTI"))
    assert _rewrites(derivations, "E. coli UTI")[0] == "escherichia coli urinary tract infection"
    assert _rewrites(derivations, "CKD stage III")[:2] == ["ckd stage 3", "chronic kidney disease stage iii"]


def test_words_become_the_nouns_names_use_only_when_the_vocabulary_has_them(derivations):
    assert _rewrites(derivations, "cardiac failure")[0] == "heart failure"
    assert "hypoxia" in _rewrites(derivations, "hypoxic")
    assert "asystole" in _rewrites(derivations, "asystolic")
    assert not any(r.endswith("ia") for r in _rewrites(derivations, "asystolic"))  # 'asystolia' is no known word
    assert _rewrites(derivations, "Alzheimer dementia")[-2:] == ["alzheimer s disease", "alzheimer s syndrome"]
    assert _rewrites(derivations, "fever") == ["fever s disease", "fever s syndrome"]  # only exact names then match


def test_the_normalizer_finds_real_phrasings_through_rewrites(tiny_dictionary):
    normalizer = Normalizer(dictionary=tiny_dictionary)
    assert normalizer.resolve("diabetes mellitus type II", "PROBLEM").candidate.concept_id == 201826
    assert normalizer.resolve("DM type II", "PROBLEM").candidate.concept_id == 201826
    assert normalizer.resolve("Fx of the right hip", "PROBLEM").candidate.concept_id == 4230399
    assert normalizer.resolve("fever", "PROBLEM") is None  # no eponym rewrite invents a concept
