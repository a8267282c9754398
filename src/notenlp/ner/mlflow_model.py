"""The NER model as an MLflow pyfunc (imported only by training and model-lifecycle code)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import mlflow.pyfunc

ARTIFACT_KEY = "ner_model"


class NerPyfunc(mlflow.pyfunc.PythonModel):
    """``predict`` takes a DataFrame with a ``text`` column and returns, per text, its mentions
    as ``{"start", "end", "label", "score"}`` dicts; the model file is the ``ner_model`` artifact."""

    def load_context(self, context: Any) -> None:
        from notenlp.ner.model import NerModel

        self.model = NerModel.load(context.artifacts[ARTIFACT_KEY])

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> list[list[dict]]:
        texts = model_input["text"] if hasattr(model_input, "columns") else model_input
        return [[{"start": m.start, "end": m.end, "label": m.label, "score": m.score}
                 for m in self.model.predict_document(text)] for text in texts]


def pip_requirements() -> list[str]:
    """Pinned runtime requirements of the pyfunc (stated, so MLflow does not probe the environment)."""
    pins = []
    for name in ("python-crfsuite", "numba", "numpy", "scipy", "scikit-learn"):
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    return pins


def log_pyfunc(model_file: str, *, registered_model_name: str | None) -> Any:
    """Log (and optionally register) the model file as a pyfunc under the active run."""
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=NerPyfunc(),
        artifacts={ARTIFACT_KEY: model_file},
        pip_requirements=pip_requirements(),
        registered_model_name=registered_model_name,
    )
