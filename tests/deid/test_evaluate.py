"""`notenlp evaluate deid` on Presidio's held-out sentences: runs end to end and logs to a tmp MLflow store."""

import argparse

import pytest

from notenlp.corpora import MISSING_MESSAGE, corpora_dir
from notenlp.evaluation import deid as evaluate
from notenlp.evaluation.deid import load_gold, score_system


@pytest.mark.corpora
@pytest.mark.slow
def test_evaluate_presidio_beats_the_pattern_baseline(tmp_path, monkeypatch, capsys, tagger):
    if corpora_dir() is None:
        pytest.skip(MISSING_MESSAGE)
    from notenlp.corpora import corpus_path
    from notenlp.deid.baseline import PresidioPatternBaseline

    notes = list(load_gold(corpus_path("presidio-synth", "synth_dataset_v2.json"), "presidio"))[:120]
    ours = score_system(notes, lambda n: tagger.detect(n["text"]))[0]["PHI"]
    baseline = PresidioPatternBaseline()
    theirs = score_system(notes, lambda n: baseline.detect(n["text"]))[0]["PHI"]
    assert ours.recall > theirs.recall and ours.f(2) > theirs.f(2)
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    parser = argparse.ArgumentParser()
    evaluate.add_arguments(parser)
    assert evaluate.run(parser.parse_args(["--format", "presidio", "--limit", "120"])) == 0
    out = capsys.readouterr().out
    assert "presidio-patterns" in out and "tok_recall" in out
    assert (tmp_path / "mlruns" / "mlflow.db").exists()


def test_token_scores_count_each_token_once(tagger):
    note = {"note_id": 1, "note_date": None, "text": "Seen by Dr. Smith on 3/4/2101 ok",
            "phi": [(12, 17, "NAME", ""), (21, 29, "DATE", "")]}
    tokens, strict, lenient, _ = score_system([note], lambda n: tagger.detect(n["text"]))
    assert (tokens["PHI"].tp, tokens["PHI"].fp, tokens["PHI"].fn) == (4, 0, 0)  # Smith, 3, 4, 2101
    assert strict["NAME"].tp == 1 and strict["DATE"].tp == 1


def test_presidio_gold_maps_types(tmp_path):
    gold = tmp_path / "g.json"
    gold.write_text('[{"full_text": "Call Bob at 555-1234", "spans": ['
                    '{"entity_type": "PERSON", "start_position": 5, "end_position": 8},'
                    '{"entity_type": "PHONE_NUMBER", "start_position": 12, "end_position": 20},'
                    '{"entity_type": "TITLE", "start_position": 0, "end_position": 4}]}]')
    (note,) = load_gold(gold, "presidio", "all")
    assert note["phi"] == [(5, 8, "NAME", "PERSON"), (12, 20, "PHONE", "PHONE_NUMBER")]


def test_original_offsets_of_deidentified_text(surrogater):
    from notenlp.evaluation.deid import original_offset, replacement_edits
    from notenlp.doc import Doc

    text = "Seen by Dr. Smith on 3/4/2101 for chest pain, Smith called."
    result = surrogater.deidentify(Doc(text, note_id=1))
    edits = replacement_edits(result)
    assert [text[e[2]:e[3]] for e in edits] == [text[p.start:p.end] for p in result.phi]
    new = result.text
    chest = new.index("chest pain")
    assert (original_offset(chest, edits, end=False), original_offset(chest + 10, edits, end=True)) == (
        text.index("chest pain"), text.index("chest pain") + 10)
    first = edits[0]
    assert original_offset(first[0] + 1, edits, end=False) == first[2]
    assert original_offset(first[1], edits, end=True) == first[3]


def test_evaluate_runs_every_generated_set_and_writes_json(tmp_path, capsys):
    """demo and both benchmark parts on a few notes, real detector and Presidio, no MLflow."""
    import json

    parser = argparse.ArgumentParser()
    evaluate.add_arguments(parser)
    out = tmp_path / "deid.json"
    args = parser.parse_args(["--sets", "demo,nursing-dev,nursing-aside", "--limit", "8", "--demo-notes", "8",
                              "--errors", "5", "--no-mlflow", "--json", str(out)])
    assert evaluate.run(args) == 0
    printed = capsys.readouterr().out
    for heading in ("== demo:", "== nursing-dev:", "== nursing-aside:", "NOT used for tuning", "presidio-patterns",
                    "tok_recall", "planted", "NAME.FAMILY"):
        assert heading in printed
    assert "nursing-dev: notenlp false alarms, most frequent" in printed
    assert "nursing-aside: notenlp false alarms" not in printed  # the kept-aside part's errors stay unread
    report = json.loads(out.read_text())
    assert set(report["sets"]) == {"demo", "nursing-dev", "nursing-aside"}
    assert report["sets"]["nursing-aside"]["notes"] == 8
    assert 0.0 <= report["metrics"]["nursing-dev.notenlp.token.PHI.recall"] <= 1.0
    with pytest.raises(SystemExit, match="unknown"):
        evaluate.chosen_sets(parser.parse_args(["--sets", "demo,real-notes"]))


@pytest.mark.corpora
@pytest.mark.slow
def test_damage_and_ner_change_on_phi_free_text(capsys):
    if corpora_dir() is None:
        pytest.skip(MISSING_MESSAGE)
    parser = argparse.ArgumentParser()
    evaluate.add_arguments(parser)
    args = parser.parse_args(["--sets", "phi-free,ner-change", "--phi-free-docs", "6", "--ner-docs", "3",
                              "--no-mlflow"])
    assert evaluate.run(args) == 0
    printed = capsys.readouterr().out
    assert "phi-free-dev" in printed and "phi-free-aside" in printed and "replaced_%" in printed
    assert "ner-change: 3 PHI-free dev documents" in printed and "entities_before" in printed
