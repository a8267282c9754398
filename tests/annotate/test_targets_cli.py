import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from notenlp.annotate import cli
from notenlp.annotate.targets import TargetEntities
from notenlp.doc import Doc, Span

SRC = Path(__file__).resolve().parents[2] / "src"


def test_target_entities_are_exactly_the_targets():
    doc = TargetEntities()(Doc(text="No fever or cough.", targets=[Span(3, 8), Span(12, 17)]))
    assert [(e.start, e.end, e.text, e.label, e.source) for e in doc.entities] == [
        (3, 8, "fever", "PROBLEM", "target"), (12, 17, "cough", "PROBLEM", "target")]
    assert TargetEntities()(Doc(text="fever")).entities == []


def test_jsonl_round_trip(tmp_path, annotate_pipeline):
    notes = [
        {"note_id": 7, "person_id": 1, "note_date": "2020-01-02",
         "text": "FAMILY HISTORY: Mother with diabetes.\nHPI: Denies chest pain. Metformin 500 mg PO BID.",
         "targets": [{"start": 28, "end": 36}, {"start": 50, "end": 60}]},
        {"note_id": "n-2", "text": "Metformin 500 mg PO BID."},
    ]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(json.dumps(n) for n in notes) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args(["--input", str(source), "--output", str(out)])) == 0
    first, second = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert first["note_id"] == 7 and second["note_id"] == "n-2"
    diabetes, chest_pain = first["entities"]
    assert (diabetes["text"], diabetes["family"], diabetes["section"], diabetes["term_exists"]) == (
        "diabetes", True, "family_history", "N")
    assert (chest_pain["text"], chest_pain["negated"], chest_pain["family"]) == ("chest pain", True, False)
    assert chest_pain["term_modifiers"].startswith("negated=true;")
    # targets mode: no medication attributes although the note has some
    assert all(e["label"] == "PROBLEM" for e in first["entities"])
    # without targets the medication attributes are found (the drug itself comes from the NER components)
    assert [e["label"] for e in second["entities"] if e["label"] != "DRUG"][:3] == ["STRENGTH", "ROUTE", "FREQUENCY"]


def test_cli_streams_stdin_to_stdout():
    line = json.dumps({"note_id": 1, "text": "No fever.", "targets": [{"start": 3, "end": 8}]})
    result = subprocess.run(
        [sys.executable, "-m", "notenlp.cli", "annotate", "--input", "-", "--output", "-"],
        input=line + "\n", capture_output=True, text=True, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        check=True, timeout=120,
    )
    (record,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert record["entities"][0]["negated"] is True
    assert "fever" not in result.stderr  # note text never reaches the logs


def test_contract_error_is_reported_without_text(tmp_path, capsys):
    source = tmp_path / "bad.jsonl"
    source.write_text('{"note_id": 1, "text": "secret text", "targets": [{"start": 5, "end": 99}]}\n', encoding="utf-8")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args(["--input", str(source), "--output", str(tmp_path / "o.jsonl")])) == 2


def test_target_labels_from_jsonl_reach_the_entities():
    from notenlp.jsonl import ContractError, doc_from_record

    text = "Metformin 500 mg and aspirin for chest pain."
    record = {"note_id": 1, "text": text,
              "targets": [{"start": 0, "end": 9, "label": "DRUG"}, {"start": 33, "end": 43, "label": "PROBLEM"}]}
    doc = TargetEntities()(doc_from_record(record))
    assert [(e.text, e.label) for e in doc.entities] == [("Metformin", "DRUG"), ("chest pain", "PROBLEM")]
    unlabelled = TargetEntities()(doc_from_record({"note_id": 2, "text": text, "targets": [{"start": 0, "end": 9}]}))
    assert [e.label for e in unlabelled.entities] == ["PROBLEM"]
    mixed = {"note_id": 3, "text": text, "targets": [{"start": 0, "end": 9, "label": "DRUG"}, {"start": 33, "end": 43}]}
    with pytest.raises(ContractError, match="^line 4: give a 'label' to every target or to none$"):
        doc_from_record(mixed, 4)
