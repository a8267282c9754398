import pytest

from notenlp.config import Settings
from notenlp.ner.corpora import LabelledText
from notenlp.ner.training import REGISTERED_MODEL, fill_missing_labels, log_and_register


def test_fill_missing_labels_adds_only_non_overlapping_mentions_of_the_asked_labels(tiny_model):
    text = "Patient was given heparin for headache ."
    doc = LabelledText("1", text, [(text.index("headache"), text.index("headache") + 8, "PROBLEM")])
    filled = fill_missing_labels(tiny_model, [doc], ("DRUG",))[0]
    assert sorted((text[s:e], label) for s, e, label in filled.mentions) == [("headache", "PROBLEM"), ("heparin", "DRUG")]
    assert fill_missing_labels(tiny_model, [doc], ("TEST",))[0].mentions == doc.mentions


@pytest.mark.slow
def test_recipe_logs_and_registers_a_pyfunc(tiny_model, tiny_model_path, tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run_id = log_and_register(tiny_model_path, tiny_model, {"c1": 0.0}, {"bc5cdr.strict.ALL.f1": 0.5},
                              {"synthetic": 24}, register=True)
    import mlflow

    uri = Settings(home=tmp_path).mlflow_tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    assert mlflow.get_run(run_id).data.metrics["bc5cdr.strict.ALL.f1"] == 0.5
    loaded = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL}/1")
    text = "Patient was given heparin for headache ."
    found = loaded.predict(pd.DataFrame({"text": [text]}))[0]
    assert [(text[m["start"]:m["end"]], m["label"]) for m in found] == [("heparin", "DRUG"), ("headache", "PROBLEM")]
