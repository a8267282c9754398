"""`notenlp evaluate ner` scores the whole annotate pipeline beside the CRF, the dictionary and the two combined."""

from __future__ import annotations

import argparse
import json

import pytest

from notenlp.evaluation import ner as evaluate

TEXT = "IMAGING: CXR showed a right pneumothorax.\nPLAN: Start metformin 500 mg PO BID."


@pytest.mark.slow
def test_pipeline_row_scores_the_annotate_pipeline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    start = TEXT.index("pneumothorax")
    drug = TEXT.index("metformin")
    entities = [{"start": start, "end": start + len("pneumothorax"), "label": "PROBLEM"},
                {"start": drug, "end": drug + len("metformin"), "label": "DRUG"}]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"note_id": 1, "text": TEXT, "entities": entities}) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    evaluate.add_arguments(parser)

    assert evaluate.run(parser.parse_args(["--corpus", "demo", "--gold", str(gold), "--speed-notes", "0"])) == 0

    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    pipeline = {row[1]: row for row in rows if row and row[0] == "pipeline"}
    assert pipeline["PROBLEM"][3] == "1.000"  # strict recall: the findings rules know 'pneumothorax'
    assert pipeline["DRUG"][3] == "1.000"
    assert {"crf", "baseline", "combined"} <= {row[0] for row in rows if row}
