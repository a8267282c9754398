"""Which models the registry holds and how each is built, trained, scored and gated.

A model is a slice of a pipeline config: the components it runs (``components``) and, of those,
the ones whose settings it supplies to the nightly pipeline once it is champion (``owns``).
``NOTENLP_MODEL_CATALOG`` may name a JSON file ``{"models": [...]}`` that replaces this catalog
(the DAG test points it at a tiny test model).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from notenlp.evaluation.deid_benchmark import DEID_GOLD_PREFIX
from notenlp.pipeline import load_config
from notenlp.resources import data_dir

CATALOG_ENV = "NOTENLP_MODEL_CATALOG"
RECIPES_ENV = "NOTENLP_MODEL_RECIPES"
PIPELINE_MODEL = "notenlp-pipeline"
# Metric names ending like this are scores the promotion gate may compare; counts are not.
SCORE_SUFFIXES = ("f1", "f2", "precision", "recall", "accuracy")
# The realistic nursing-note benchmark's dev part (notenlp.evaluation.deid_benchmark), which notenlp-deid is gated on.
DEID_DEV_GOLD = DEID_GOLD_PREFIX + "dev"


@dataclass
class ModelSpec:
    name: str  # registered model name
    pipeline: str | dict[str, Any] = "annotate"  # pipeline config name, path or inline config
    components: list[str] | None = None  # components of that config the model runs (None: all)
    owns: list[str] = field(default_factory=list)  # components whose settings it supplies once champion
    recipe: str | None = None  # folder under the recipes dir (or a path) holding train.py
    gold: list[str] = field(default_factory=lambda: ["demo"])  # gold sets: "demo", "negex" or JSONL paths
    gold_targets: bool = False  # give the gold entity spans as targets (assertion scoring)
    tracked: list[str] | None = None  # metrics the gate compares (None: every score metric both versions have)
    lower_is_better: list[str] = field(default_factory=list)
    margin: float = 0.01  # largest drop of a tracked metric (absolute) that still allows promotion

    def config(self) -> dict[str, Any]:
        """The model's own pipeline config: the chosen components of ``pipeline``, in their order."""
        base = json.loads(json.dumps(load_config(self.pipeline)))
        if self.components is not None:
            known = {c["name"] for c in base["components"]}
            missing = [name for name in self.components if name not in known]
            if missing:
                raise ValueError(f"model {self.name!r}: components {missing} are not in pipeline {base.get('name')!r}")
            base["components"] = [c for c in base["components"] if c["name"] in self.components]
        base["name"] = self.name
        return base

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_DEID_PIPELINE = {
    "name": "deid",
    "components": [{"name": "deid", "factory": "notenlp.deid:Deidentifier", "config": {}}],
}

DEFAULT_CATALOG: tuple[ModelSpec, ...] = (
    # De-identification is scored on the realistic nursing-note benchmark's dev part (PHI spans are not
    # part of the annotation contract): PHI token recall, precision and F2 must hold, damage must not grow.
    ModelSpec("notenlp-deid", pipeline=_DEID_PIPELINE, owns=["deid"], recipe="deid", gold=[DEID_DEV_GOLD],
              tracked=[f"{DEID_DEV_GOLD}.token_recall", f"{DEID_DEV_GOLD}.token_precision",
                       f"{DEID_DEV_GOLD}.token_f2", f"{DEID_DEV_GOLD}.damage_rate"],
              lower_is_better=[f"{DEID_DEV_GOLD}.damage_rate"]),
    ModelSpec("notenlp-ner", components=["sentences", "sections", "ner_model"], owns=["ner_model"], recipe="ner",
              tracked=["demo.entity_strict_f1", "demo.entity_lenient_f1"]),
    ModelSpec("notenlp-assertion", components=["sentences", "sections", "targets", "context"], owns=["context"],
              gold=["negex", "demo"], gold_targets=True,
              tracked=["negex.negated_f1", "negex.assertion_accuracy", "demo.assertion_accuracy"]),
    ModelSpec("notenlp-relations",
              components=["sentences", "sections", "medications", "dictionary", "ner_model", "findings",
                          "relation_mentions", "context", "relations"],
              owns=["relation_mentions", "relations"], recipe="relations", tracked=["demo.relation_f1"]),
    ModelSpec("notenlp-normalization", components=["sentences", "sections", "dictionary", "normalize"],
              owns=["dictionary", "normalize"], tracked=["demo.concept_accuracy"]),
    ModelSpec(PIPELINE_MODEL, tracked=["demo.entity_strict_f1", "demo.assertion_accuracy",
                                       "demo.concept_accuracy", "demo.relation_f1"]),
)


def load_catalog(path: str | Path | None = None) -> dict[str, ModelSpec]:
    path = path or os.environ.get(CATALOG_ENV)
    if not path:
        return {spec.name: spec for spec in DEFAULT_CATALOG}
    entries = json.loads(Path(path).read_text(encoding="utf-8"))["models"]
    return {entry["name"]: ModelSpec(**entry) for entry in entries}


def get_spec(name: str, catalog: dict[str, ModelSpec] | None = None) -> ModelSpec:
    catalog = catalog if catalog is not None else load_catalog()
    for candidate in (name, f"notenlp-{name}"):
        if candidate in catalog:
            return catalog[candidate]
    raise KeyError(f"unknown model {name!r}; the catalog has {sorted(catalog)}")


def recipe_path(spec: ModelSpec) -> Path | None:
    """The spec's ``train.py`` when it exists: a path as given, else ``<recipes dir>/<recipe>/train.py``."""
    if not spec.recipe:
        return None
    recipes = Path(os.environ.get(RECIPES_ENV) or data_dir("models"))
    for candidate in (Path(spec.recipe), recipes / spec.recipe):
        script = candidate / "train.py" if candidate.suffix != ".py" else candidate
        if script.is_file():
            return script.resolve()
    return None
