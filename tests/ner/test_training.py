import importlib.util
from pathlib import Path

import pytest

from notenlp.config import Settings
from notenlp.ner.corpora import LabelledText
from notenlp.ner.training import align_boundaries, fill_missing_labels

RECIPE = Path(__file__).resolve().parents[2] / "models" / "ner" / "train.py"


def load_recipe():
    """models/ner/train.py as a module (recipes are run as files, not imported as a package)."""
    spec = importlib.util.spec_from_file_location("ner_train_recipe", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fill_missing_labels_adds_only_non_overlapping_mentions_of_the_asked_labels(tiny_model):
    text = "Patient was given heparin for headache ."
    doc = LabelledText("1", text, [(text.index("headache"), text.index("headache") + 8, "PROBLEM")])
    filled = fill_missing_labels(tiny_model, [doc], ("DRUG",))[0]
    assert sorted((text[s:e], label) for s, e, label in filled.mentions) == [("headache", "PROBLEM"), ("heparin", "DRUG")]
    assert fill_missing_labels(tiny_model, [doc], ("TEST",))[0].mentions == doc.mentions


def test_align_boundaries_takes_the_models_extent_and_keeps_unmatched_gold_spans(tiny_model):
    text = "Patient was given heparin for severe headache . Later rash ."
    severe, rash = text.index("severe"), text.index("rash")
    doc = LabelledText("1", text, [(severe, severe + 15, "PROBLEM"), (rash, rash + 4, "PROBLEM"),
                                   (text.index("heparin"), text.index("heparin") + 7, "DRUG")])
    aligned = align_boundaries(tiny_model, [doc], "PROBLEM")[0]
    assert sorted((text[s:e], label) for s, e, label in aligned.mentions) == [
        ("headache", "PROBLEM"), ("heparin", "DRUG"), ("rash", "PROBLEM")]


@pytest.mark.slow
def test_recipe_logs_and_registers_a_pyfunc(tiny_model, tiny_model_path, tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    recipe = load_recipe()
    run_id = recipe.log_and_register(tiny_model_path, tiny_model, {"c1": 0.0}, {"bc5cdr.strict.ALL.f1": 0.5},
                              {"synthetic": 24}, register=True)
    import mlflow

    uri = Settings(home=tmp_path).mlflow_tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    assert mlflow.get_run(run_id).data.metrics["bc5cdr.strict.ALL.f1"] == pytest.approx(0.5, rel=1e-9)
    loaded = mlflow.pyfunc.load_model(f"models:/{recipe.REGISTERED_MODEL}/1")
    text = "Patient was given heparin for headache ."
    found = loaded.predict(pd.DataFrame({"text": [text]}))[0]
    assert [(text[m["start"]:m["end"]], m["label"]) for m in found] == [("heparin", "DRUG"), ("headache", "PROBLEM")]


def test_recipe_writes_the_metrics_notenlp_models_train_asks_for(tiny_model_path, tmp_path, monkeypatch):
    training = load_recipe()
    monkeypatch.setattr(training, "corpora_dir", lambda: tmp_path)
    monkeypatch.setattr(training, "train_all", lambda root, params, demo: (training.NerModel.load(tiny_model_path), {"bc5cdr": 1}))
    monkeypatch.setattr(training, "dev_sets", lambda root: {})
    metrics_file = tmp_path / "metrics.json"
    monkeypatch.setenv("NOTENLP_TRAIN_METRICS", str(metrics_file))
    assert training.main(["--out", str(tmp_path / "model.zip"), "--no-mlflow"]) == 0
    import json

    metrics = json.loads(metrics_file.read_text())
    assert metrics["model_bytes"] == (tmp_path / "model.zip").stat().st_size and metrics["train_seconds"] >= 0
