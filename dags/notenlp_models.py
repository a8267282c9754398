"""
### notenlp models: train -> evaluate -> register -> promote (gated)

Weekly (or triggered by hand) refresh of every model in the catalog (`notenlp.lifecycle.catalog`,
or the JSON file named by `NOTENLP_MODEL_CATALOG`), one mapped task instance per model:

1. **train**: runs `models/<name>/train.py` when the model has a recipe;
2. **evaluate**: scores the model's pipeline config on its gold sets (development gold from the
   corpora folder when present, demo gold) and logs the figures to MLflow;
3. **register**: packages the config and the files it points to as a new MLflow model version;
4. **promote**: moves the `champion` alias only when no tracked metric drops by more than the
   model's margin against the current champion; the decision and its reason become version tags.

The nightly run then loads `models:/<name>@champion`. Trigger with
`{"models": ["notenlp-ner"]}` to refresh some models only. See `docs/models.md`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task


@dag(
    dag_id="notenlp_models",
    schedule="@weekly",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["notenlp", "mlflow"],
    params={"models": Param([], type="array", description="models to refresh; empty means every catalog model")},
)
def notenlp_models():
    @task
    def select_models(params=None) -> list[str]:
        from notenlp.lifecycle.catalog import get_spec, load_catalog

        chosen = (params or {}).get("models") or list(load_catalog())
        return [get_spec(name).name for name in chosen]

    @task
    def train(name: str) -> dict:
        from notenlp.lifecycle import steps

        return steps.train(name)

    @task
    def evaluate(trained: dict) -> dict:
        from notenlp.lifecycle import steps

        return {"name": trained["name"], "metrics": {**trained["metrics"], **steps.evaluate(trained["name"])}}

    @task
    def register(evaluated: dict) -> dict:
        from notenlp.lifecycle import steps

        return {"name": evaluated["name"], "version": steps.register(evaluated["name"], evaluated["metrics"])}

    @task
    def promote(registered: dict) -> dict:
        from notenlp.lifecycle import steps

        return steps.promote(registered["name"], registered["version"]).to_dict()

    trained = train.expand(name=select_models())
    promote.expand(registered=register.expand(evaluated=evaluate.expand(trained=trained)))


notenlp_models()
