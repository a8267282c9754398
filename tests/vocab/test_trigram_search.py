"""Trigram search returns exactly the keys a brute-force Dice computation ranks first."""

import pytest

from notenlp.vocab.dictionary import Candidate, Dictionary

KEYS = ["pneumonia", "pneumonitis", "pneumothorax", "hypertension", "hypotension", "hypertensive disease",
        "atrial fibrillation", "atrial flutter", "metformin", "metoprolol", "diabetes mellitus", "diabetic neuropathy",
        "chest pain", "chest wall pain", "back pain", "renal failure", "acute renal failure", "heart failure"]


def candidate(key: str, concept_id: int, domain: str) -> Candidate:
    return Candidate(key=key, kind="name", source_concept_id=concept_id, concept_id=concept_id, domain_id=domain,
                     vocabulary_id="SNOMED", concept_code=str(concept_id), concept_name=key, concept_class_id="",
                     form="", rule=None)


def trigrams(value: str) -> set[str]:
    padded = f"  {value} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def brute_force(keys, query, allowed, min_dice, domains):
    grams = trigrams(query)
    scored = []
    for key in keys:
        dice = 2 * len(grams & trigrams(key)) / (len(grams) + len(trigrams(key)))
        if dice > 0 and dice >= min_dice and (allowed is None or domains[key] in allowed):
            scored.append((dice, key))
    return sorted(scored, key=lambda item: (-item[0], item[1]))[:20]


@pytest.mark.parametrize("query", ["pnuemonia", "hypertensoin", "atrial fib", "metoprolol", "chest pian",
                                   "renal failur", "zzzz", "heart"])
@pytest.mark.parametrize("min_dice", [0.0, 0.3, 0.5, 0.8])
def test_trigram_search_equals_brute_force(query, min_dice):
    domains = {key: ("Drug" if key.startswith("met") else "Condition") for key in KEYS}
    dictionary = Dictionary({key: [candidate(key, i + 1, domains[key])] for i, key in enumerate(KEYS)}, {})
    for allowed in (None, {"Condition"}):
        found = dictionary.trigram_search(query, allowed, min_dice=min_dice)
        expected = brute_force(KEYS, query, allowed, min_dice, domains)
        assert [key for _, key in found] == [key for _, key in expected]
        assert [dice for dice, _ in found] == pytest.approx([dice for dice, _ in expected])
    assert dictionary.trigram_search("pnuemonia", None, min_dice=0.5)[0][1] == "pneumonia"
