"""The relation model as an MLflow pyfunc (registered as ``notenlp-relations``).

``predict`` takes records ``{"text", "entities": [{"start", "end", "label", ...flags}], "sentences"?}``
(a DataFrame or a list of dicts) and returns, per record, a list of
``{"head", "tail", "type", "score"}`` with head/tail indexing the record's entities.
Only the training recipe imports this module, so importing mlflow at the top is fine here.
"""

from __future__ import annotations

from typing import Any

import mlflow

from notenlp.attributes import ASSERTION_FLAGS
from notenlp.doc import Doc, Entity, Span

MODEL_ARTIFACT = "relation_model"
RULES_ARTIFACT = "relation_rules"
NESTED_DRUGS_ARTIFACT = "relation_nested_drugs"


class RelationPyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context: Any) -> None:
        from notenlp.relations.component import RelationExtractor

        self.extractor = RelationExtractor(model_path=context.artifacts[MODEL_ARTIFACT],
                                           rules=context.artifacts[RULES_ARTIFACT],
                                           nested_drugs=context.artifacts.get(NESTED_DRUGS_ARTIFACT))

    def predict(self, context, model_input, params=None):  # untyped: MLflow infers signatures from hints
        records = model_input.to_dict("records") if hasattr(model_input, "to_dict") else list(model_input)
        out = []
        for record in records:
            entities = []
            for e in record["entities"]:
                entity = Entity(int(e["start"]), int(e["end"]), e.get("text", ""), e["label"], id=len(entities))
                for flag in ASSERTION_FLAGS:
                    setattr(entity, flag, bool(e.get(flag, False)))
                entities.append(entity)
            sentences = [Span(int(s["start"]), int(s["end"])) for s in record.get("sentences") or []]
            doc = self.extractor(Doc(text=record["text"], entities=entities, sentences=sentences))
            out.append([{"head": r.head, "tail": r.tail, "type": r.type, "score": r.score} for r in doc.relations])
        return out


def log_and_register(model_path: str, rules_path: str, name: str = "notenlp-relations",
                     nested_drugs_path: str | None = None) -> str:
    """Log the pyfunc under the active run and register it; returns the model URI.
    ``nested_drugs_path``: the rules naming drugs inside problems (default: the shipped ones)."""
    from notenlp.relations.mentions import DEFAULT_NESTED_DRUGS
    from notenlp.resources import file_or_resource

    nested = str(file_or_resource(nested_drugs_path or DEFAULT_NESTED_DRUGS))
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=RelationPyfunc(),
        artifacts={MODEL_ARTIFACT: model_path, RULES_ARTIFACT: rules_path, NESTED_DRUGS_ARTIFACT: nested},
        registered_model_name=name,
        pip_requirements=["scikit-learn", "mlflow"],
    )
    return info.model_uri
