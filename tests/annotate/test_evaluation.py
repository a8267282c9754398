import argparse
import json

import pytest

from notenlp.evaluation import annotate_bench as bench
from notenlp.evaluation import assertion as evaluate_assertion
from notenlp.corpora import MISSING_MESSAGE, corpus_path

NEGEX_HEADER = "line number\tCondition\tsentence\tnegation\ttemporality\texperiencer\n"
NEGEX_ROWS = [
    ("1", "pneumonia", "No evidence of PNEUMONIA on the film.", "Negated", "Recent", "Patient"),
    ("2", "asthma", "She has a history of ASTHMA.", "Affirmed", "Historical", "Patient"),
    ("3", "chest pain", "Return if CHEST PAIN recurs.", "Affirmed", "Not particular", "Patient"),
    ("4", "cough", "Cough noted; she reports a productive COUGH.", "Affirmed", "Recent", "Patient"),
]


def write_negex(path):
    path.write_text(NEGEX_HEADER + "".join("\t".join(r) + "\n" for r in NEGEX_ROWS), encoding="utf-8")
    return path


def test_find_span_prefers_the_capitalised_occurrence():
    sentence = "Cough noted; she reports a productive COUGH."
    assert evaluate_assertion.find_span("cough", sentence) == (38, 43)
    assert evaluate_assertion.find_span("chest   pain", "Return if CHEST PAIN recurs.") == (10, 20)
    assert evaluate_assertion.find_span("fever", "No cough.") is None


def test_negex_reader_and_scores(tmp_path):
    cases, missing = evaluate_assertion.read_negex(write_negex(tmp_path / "negex.tsv"))
    assert missing == 0 and len(cases) == 4
    assert cases[0].gold == [{"negated": True, "historical": False, "hypothetical": False, "family": False}]
    predictions, components, _ = evaluate_assertion.run_notenlp(cases, "annotate")
    assert "context" in components
    scores = evaluate_assertion.score(cases, predictions, evaluate_assertion.NEGEX_FLAGS)
    assert (scores["negated"].tp, scores["negated"].fp, scores["negated"].fn) == (1, 0, 0)
    assert (scores["historical"].tp, scores["hypothetical"].tp) == (1, 1)


@pytest.mark.corpora
def test_negex_dev_negation_bar():
    path = corpus_path("negex", "negex_dev.tsv")
    if path is None:
        pytest.skip(MISSING_MESSAGE)
    cases, _ = evaluate_assertion.read_negex(path)
    predictions, _, _ = evaluate_assertion.run_notenlp(cases, "annotate")
    scores = evaluate_assertion.score(cases, predictions, evaluate_assertion.NEGEX_FLAGS)
    assert scores["negated"].f1 >= 0.95


@pytest.mark.slow
def test_evaluate_demo_gold_beside_medspacy_logs_to_mlflow(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    text = "HPI: Denies fever. History of asthma.\nFAMILY HISTORY: Mother with diabetes."
    entities = [
        {"start": 12, "end": 17, "label": "PROBLEM", "negated": True},
        {"start": 30, "end": 36, "label": "PROBLEM", "historical": True},
        {"start": 66, "end": 74, "label": "PROBLEM", "family": True},
    ]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"note_id": 1, "text": text, "entities": entities}) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    evaluate_assertion.add_arguments(parser)
    assert evaluate_assertion.run(parser.parse_args(["--gold", str(gold), "--format", "demo"])) == 0
    printed = capsys.readouterr().out
    assert "medspacy" in printed and "notenlp" in printed

    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    (run,) = mlflow.search_runs(experiment_names=["evaluate-assertion"], output_format="list")
    assert run.data.metrics["notenlp.negated.f1"] == pytest.approx(1.0, rel=1e-9)
    assert run.data.metrics["notenlp.family.f1"] == pytest.approx(1.0, rel=1e-9)
    assert "medspacy.negated.f1" in run.data.metrics


@pytest.mark.slow
def test_bench_runs_both_systems(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    text = "HPI: Denies fever.\nMEDICATIONS: Metformin 500 mg PO BID."
    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(json.dumps({"note_id": i, "text": text, "entities": [
        {"start": 12, "end": 17, "label": "PROBLEM"}]}) + "\n" for i in range(3)), encoding="utf-8")
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--input", str(notes), "--notes", "3", "--workers", "2",
                              "--negex", str(write_negex(tmp_path / "n.tsv"))])
    assert bench.run(args) == 0
    printed = capsys.readouterr().out
    assert "notes_per_s" in printed and "speed-up" in printed and "negated" in printed
    assert "with 2 workers each" in printed and "WARNING" not in printed  # workers found what one process found
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    (run,) = mlflow.search_runs(experiment_names=["bench-annotate"], output_format="list")
    assert run.data.metrics["workers"] == 2
    assert run.data.metrics["notenlp_workers_notes_per_s"] > 0 and run.data.metrics["medspacy_workers_notes_per_s"] > 0
