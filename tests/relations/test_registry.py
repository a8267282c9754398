from pathlib import Path

import pytest

from notenlp.config import Settings
from notenlp.relations.component import DEFAULT_RULES
from notenlp.resources import resource_path


@pytest.mark.slow
def test_registered_model_loads_from_the_registry_and_predicts(tiny_model_path: Path, tmp_path: Path):
    from notenlp.relations.registry import log_and_register
    from notenlp.tracking import configure_mlflow, ensure_experiment

    settings = Settings(home=tmp_path)
    mlflow = configure_mlflow(settings)
    with mlflow.start_run(experiment_id=ensure_experiment("relations-training", settings)):
        log_and_register(str(tiny_model_path), str(resource_path(DEFAULT_RULES)))
    model = mlflow.pyfunc.load_model("models:/notenlp-relations/1")
    text = "He was started on insulin for diabetes."
    record = {"text": text, "entities": [{"start": 18, "end": 25, "label": "DRUG"},
                                         {"start": 30, "end": 38, "label": "PROBLEM"}]}
    assert model.predict([record]) == [[{"head": 0, "tail": 1, "type": "treats",
                                         "score": pytest.approx(1.0, abs=0.5)}]]
    nested = {"text": "Lithium toxicity.", "entities": [{"start": 0, "end": 7, "label": "DRUG"},
                                                         {"start": 0, "end": 16, "label": "PROBLEM"}]}
    assert model.predict([nested]) == [[{"head": 0, "tail": 1, "type": "causes_adverse_event",
                                         "score": pytest.approx(1.0, rel=1e-9)}]]
