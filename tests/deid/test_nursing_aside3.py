"""The third kept-aside benchmark part: exact gold, hard negatives without gold, nothing shared with the others."""

import argparse
import json
import re

import pytest

from notenlp.corpora import MISSING_MESSAGE, corpora_dir
from notenlp.evaluation import deid as evaluate
from notenlp.evaluation import nursing_aside3 as a3
from notenlp.evaluation import nursing_notes as nn

_SLOT = re.compile(r"\{([A-Z_0-9]+)\}")


@pytest.fixture(scope="module")
def notes():
    return a3.generate_notes(300, background={})


def _templates(spec) -> dict[str, list[str]]:
    """Every line template of the part by kind."""
    return {"headers": [t for lines in spec["headers"].values() for t in lines],
            "phi_lines": [t for lines in spec["phi_lines"].values() for t in lines],
            "clinical_lines": [t for lines in spec["clinical_lines"].values() for t in lines],
            "hard_negatives": list(spec["hard_negatives"])}


def test_generation_is_deterministic_by_seed():
    assert a3.generate_notes(20, background={}) == a3.generate_notes(20, background={})
    assert a3.generate_notes(5, background={}) != a3.generate_notes(5, seed=a3.SEED + 1, background={})
    assert a3.SEED not in (nn.DEV_SEED, nn.ASIDE_SEED, nn.ASIDE2_SEED)


def test_gold_spans_point_at_the_planted_text_and_every_subtype_case_and_layout_occurs(notes):
    name_cases, planted = set(), []
    for note in notes:
        for phi in note["phi"]:
            assert note["text"][phi["start"]:phi["end"]] == phi["text"]
            assert phi["type"] == phi["subtype"].split(".")[0]
            assert phi["text"] == phi["text"].strip() and phi["text"]
            if note["case"] == "lower":
                assert phi["text"] == phi["text"].lower()
            elif note["case"] == "upper":
                assert phi["text"] == phi["text"].upper()
            elif phi["type"] == "NAME":
                name_cases.add(phi["case"])
            planted.append(phi)
        starts = sorted((p["start"], p["end"]) for p in note["phi"])
        assert all(end <= next_start for (_, end), (next_start, _) in zip(starts, starts[1:]))  # no overlaps
    assert {note["case"] for note in notes} == {"lower", "upper", "mixed"}
    assert name_cases == {"title", "lower", "upper"}
    assert {note["layout"] for note in notes} == {layout for layout, _ in a3.load_spec()["layouts"]}
    assert {p["subtype"] for p in planted} == set(a3.SLOT_SUBTYPES.values())
    names = [p for p in planted if p["type"] == "NAME"]
    assert any(p["english_word"] for p in names) and any(p.get("unlisted") for p in names)
    assert any(not p["english_word"] and not p.get("unlisted") for p in names)  # Census names of its band
    assert any(not note["phi"] for note in notes) and any(len(note["phi"]) >= 4 for note in notes)
    for templates in _templates(a3.load_spec()).values():  # every slot is a PHI slot the part knows
        for template in templates:
            assert set(_SLOT.findall(template)) <= set(a3.SLOT_SUBTYPES), template


def test_hard_negatives_carry_no_gold(notes):
    spec = a3.load_spec()
    for line in spec["hard_negatives"]:
        assert not _SLOT.search(line), line
    seen = set()
    for note in notes:
        for negative in note["negatives"]:
            seen.add(note["text"][negative["start"]:negative["end"]].lower())
            assert not [p for p in note["phi"] if p["start"] < negative["end"] and negative["start"] < p["end"]]
    assert len(seen) >= len(spec["hard_negatives"]) // 2
    assert seen <= {line.lower() for line in spec["hard_negatives"]}


def test_the_part_shares_no_template_name_or_place_with_the_other_parts():
    spec, pools = a3.load_spec(), a3.pools()
    own_names = {n.lower() for group in (pools.first, pools.last, pools.first_words, pools.last_words,
                                         pools.unlisted_first, pools.unlisted_last) for n in group}
    assert len(pools.first) > 500 and len(pools.last) > 2000
    own_templates = {t.lower() for lines in _templates(spec).values() for t in lines}
    own_places = ({w.lower() for pair in spec["hospitals"] for w in pair}
                  | {p.lower() for key in ("units", "facilities", "towns", "streets") for p in spec[key]})
    for part in nn.PARTS:
        other = nn._pools(part)
        other_names = {n.lower() for group in (other.first, other.last, other.first_words, other.last_words,
                                               other.unlisted_first, other.unlisted_last) for n in group}
        assert not own_names & other_names, part
        other_templates = {t.lower() for key in ("headers", "phi_lines", "clinical_lines") for t in other.spec[key]}
        assert not own_templates & other_templates, part
        other_places = ({w.lower() for pair in other.spec["hospitals"] for w in pair}
                        | {p.lower() for key in ("units", "facilities", "cities") for p in other.spec[key]})
        assert not own_places & other_places, part
    assert not set(spec["area_codes"]) & set(nn.load_templates()["area_codes"])


def test_unlisted_names_are_in_no_lexicon_and_word_names_in_no_cue_list():
    from notenlp.deid.resources import load_context, load_lexicons

    lex, pools = load_lexicons(), a3.pools()
    unlisted = {n.lower() for n in pools.unlisted_first + pools.unlisted_last}
    assert len(unlisted) >= 90 and not unlisted & (lex.first_names | lex.last_names)
    assert not {w.lower() for w in pools.first_words + pools.last_words} & frozenset(load_context()["cued_only_names"])


@pytest.mark.corpora
def test_background_sentences_come_from_the_aside_half_only():
    if corpora_dir() is None:
        pytest.skip(MISSING_MESSAGE)
    aside = {s for v in a3.background_pool().values() for s in v}
    dev = {s for v in nn.background_sentences("dev").values() for s in v}
    assert aside and all(nn.sentence_part(s) == "aside" for s in list(aside)[:200])
    written = a3.generate_notes(25)
    assert any(any(s.lower() in note["text"].lower() for s in aside) for note in written)
    long_dev = [s.lower() for s in dev if len(s) > 40]
    assert not [s for note in written for s in long_dev if s in note["text"].lower()]


def test_evaluate_scores_aside3_only_when_named_and_never_lists_its_errors(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    evaluate.add_arguments(parser)
    assert "nursing-aside3" not in evaluate.chosen_sets(parser.parse_args([]))
    out = tmp_path / "deid.json"
    args = parser.parse_args(["--sets", "nursing-dev,nursing-aside3", "--limit", "5", "--errors", "5",
                              "--no-mlflow", "--json", str(out)])
    assert evaluate.run(args) == 0
    printed = capsys.readouterr().out
    assert "== nursing-aside3: de-identification on 5 notes" in printed
    assert "NOT used for tuning" in printed and "presidio-patterns" in printed
    assert "nursing-dev: notenlp false alarms" in printed
    assert "nursing-aside3: notenlp" not in printed  # neither its false alarms nor its misses
    assert "nursing-aside3: token recall per planted" not in printed
    report = json.loads(out.read_text())
    assert report["sets"]["nursing-aside3"]["notes"] == 5 and report["sets"]["nursing-aside3"]["by_planted"] == []
    assert 0.0 <= report["metrics"]["nursing-aside3.notenlp.token.PHI.recall"] <= 1.0
    assert not [k for k in report["metrics"] if k.startswith("nursing-aside3.") and ".planted." in k]
