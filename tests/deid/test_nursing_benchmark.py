"""The realistic nursing-note benchmark: exact gold, dev and aside kept apart, a PHI-free damage set."""

import pytest

from notenlp.corpora import MISSING_MESSAGE, corpora_dir
from notenlp.evaluation import nursing_notes as nn


@pytest.fixture(scope="module")
def dev_notes():
    return nn.generate_notes("dev", 300, background={})


def test_gold_spans_point_at_the_planted_text_in_every_case_style(dev_notes):
    assert {note["case"] for note in dev_notes} == {"lower", "upper", "mixed"}
    name_cases = set()
    for note in dev_notes:
        for phi in note["phi"]:
            assert note["text"][phi["start"]:phi["end"]] == phi["text"]
            assert phi["type"] == phi["subtype"].split(".")[0]
            if note["case"] == "lower":
                assert phi["text"] == phi["text"].lower()
            elif note["case"] == "upper":
                assert phi["text"] == phi["text"].upper()
            elif phi["type"] == "NAME":
                name_cases.add(phi["case"])
    assert name_cases == {"title", "lower", "upper"}  # mixed notes still write names in every case
    planted = {phi["subtype"] for note in dev_notes for phi in note["phi"]}
    assert planted == set(nn.PHI_KINDS.values())
    assert any(phi["english_word"] for note in dev_notes for phi in note["phi"] if phi["type"] == "NAME")


def test_notes_are_deterministic_by_part_and_seed():
    assert nn.generate_notes("aside", 5, background={}) == nn.generate_notes("aside", 5, background={})
    assert nn.generate_notes("dev", 5, background={}) != nn.generate_notes("dev", 5, seed=7, background={})
    with pytest.raises(ValueError, match="part must be one of"):
        nn.generate_notes("test", 1)


def test_dev_and_aside_share_no_names_places_or_templates():
    dev, aside = nn._pools("dev"), nn._pools("aside")
    dev_names = {n.lower() for n in dev.first + dev.last + dev.first_words + dev.last_words}
    aside_names = {n.lower() for n in aside.first + aside.last + aside.first_words + aside.last_words}
    assert dev_names and aside_names and not dev_names & aside_names
    for key in ("hospitals", "units", "facilities", "cities", "headers", "phi_lines", "clinical_lines"):
        dev_values = {str(v).lower() for v in dev.spec[key]}
        assert not dev_values & {str(v).lower() for v in aside.spec[key]}, key
    dev_places = {w.lower() for h in dev.spec["hospitals"] for w in h} | {p.lower() for p in dev.spec["units"]
                                                                         + dev.spec["facilities"] + dev.spec["cities"]}
    for note in nn.generate_notes("aside", 80, background={}):
        for phi in note["phi"]:
            if phi["type"] == "NAME":
                assert not {w.lower() for w in phi["text"].split()} & dev_names, phi["text"]
            elif phi["type"] == "LOCATION":
                assert phi["text"].lower() not in dev_places


@pytest.mark.corpora
def test_phi_free_set_is_real_sentences_only_and_split_by_part():
    if corpora_dir() is None:
        pytest.skip(MISSING_MESSAGE)
    dev, aside = nn.background_sentences("dev"), nn.background_sentences("aside")
    assert all(dev.values()) and all(aside.values())
    assert not {s for v in dev.values() for s in v} & {s for v in aside.values() for s in v}
    dev_sentences = {s for v in dev.values() for s in v}
    docs = nn.phi_free_documents("dev", 20)
    assert len(docs) == 20
    for doc in docs:
        assert doc["phi"] == []
        remaining = doc["text"]
        for sentence in sorted(dev_sentences, key=len, reverse=True):  # the text is nothing but dev sentences
            if sentence in remaining:
                remaining = remaining.replace(sentence, "")
        assert not remaining.strip(), remaining[:80]
    notes = nn.generate_notes("dev", 30)
    assert any(any(s in note["text"] for s in dev_sentences) for note in notes)
    for note in notes:
        assert all(note["text"][p["start"]:p["end"]] == p["text"] for p in note["phi"])


def test_aside2_shares_nothing_with_the_other_parts_and_plants_surrogates_the_detector_does_not_ship():
    from notenlp.deid.resources import load_context, load_lexicons

    lex, cued_only = load_lexicons(), frozenset(load_context()["cued_only_names"])
    aside2 = nn._pools("aside2")
    others = [nn._pools("dev"), nn._pools("aside")]
    names = {n.lower() for n in aside2.first + aside2.last + aside2.first_words + aside2.last_words
             + aside2.unlisted_first + aside2.unlisted_last}
    for other in others:
        assert not names & {n.lower() for n in other.first + other.last + other.first_words + other.last_words}
        for key in ("hospitals", "units", "facilities", "cities", "headers", "phi_lines", "clinical_lines"):
            assert not {str(v).lower() for v in aside2.spec[key]} & {str(v).lower() for v in other.spec[key]}, key
    # The leak this part closes: lexicons or cue lists that hold the very surrogates the benchmark plants.
    unlisted = {n.lower() for n in aside2.unlisted_first + aside2.unlisted_last}
    assert len(unlisted) >= 60 and not unlisted & (lex.first_names | lex.last_names)
    assert aside2.spec["cities"] and not {c.lower() for c in aside2.spec["cities"]} & (
        lex.cities | lex.states | lex.countries)
    assert not {w.lower() for w in aside2.first_words + aside2.last_words} & cued_only
    notes = nn.generate_notes("aside2", 120, background={})
    assert notes == nn.generate_notes("aside2", 120, background={})
    planted = [phi for note in notes for phi in note["phi"]]
    assert all(note["text"][p["start"]:p["end"]] == p["text"] for note in notes for p in note["phi"])
    assert any(p.get("unlisted") for p in planted) and any(p["type"] == "NAME" and not p.get("unlisted")
                                                           for p in planted)
    assert {p["subtype"] for p in planted} == set(nn.PHI_KINDS.values())


def test_every_part_has_a_damage_half():
    assert [nn.damage_part(part) for part in nn.PARTS] == ["dev", "aside", "aside"]
    with pytest.raises(ValueError, match="part must be one of"):
        nn.phi_free_documents("aside2", 1)
