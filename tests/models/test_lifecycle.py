"""Model lifecycle on a toy model: packaging, scoring, the promotion gate, champions for the nightly run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notenlp.cli import main
from notenlp.config import Settings
from notenlp.fingerprints import NLP_SYSTEM_MAX, nlp_system
from notenlp.lifecycle import steps
from notenlp.lifecycle.evaluate import GoldSet, score_records
from notenlp.lifecycle.registry import (
    compare, list_versions, pipeline_overrides_from_champions, resolve_champion,
)
from notenlp.pipeline import Pipeline

from .components import toy_config, write_rules
from .conftest import TOY, gold_records


def test_packaged_model_carries_its_files_and_answers_the_contract(tmp_path):
    import mlflow.pyfunc
    import pandas as pd

    from notenlp.lifecycle.pyfunc import ARTIFACT_MARKER, save_pipeline_model

    lexicon, negation = write_rules(tmp_path / "rules", {"chest pain": "PROBLEM", "aspirin": "DRUG"}, ["denies"])
    model_dir = save_pipeline_model(toy_config(lexicon, negation), tmp_path / "model")
    lexicon.unlink()  # the model must run from its own copy
    negation.unlink()
    stored = json.loads((model_dir / "artifacts" / "pipeline.json").read_text())
    assert all(ARTIFACT_MARKER in c["config"]["rules"] for c in stored["components"])

    model = mlflow.pyfunc.load_model(str(model_dir))
    notes = pd.DataFrame([
        {"note_id": 7, "person_id": 3, "text": "Patient denies chest pain. Takes aspirin daily."},
        {"note_id": "b", "text": "ASPIRIN"},
    ])
    first, second = model.predict(notes)
    assert first["note_id"] == 7 and first["relations"] == []
    assert [(e["text"], e["label"], e["negated"], e["term_exists"]) for e in first["entities"]] == [
        ("chest pain", "PROBLEM", True, "N"), ("aspirin", "DRUG", False, "Y")]
    assert (first["entities"][0]["start"], first["entities"][0]["end"]) == (15, 25)
    assert second["note_id"] == "b" and [e["text"] for e in second["entities"]] == ["ASPIRIN"]
    assert model.metadata.get_input_schema().input_names() == ["note_id", "text", "person_id", "note_date", "targets"]


def test_default_file_settings_are_packaged_with_the_model(tmp_path):
    import mlflow.pyfunc

    from notenlp.lifecycle.pyfunc import ARTIFACT_MARKER, package_config, save_pipeline_model

    lexicon, _ = write_rules(tmp_path, {"fever": "PROBLEM"}, [])
    config = toy_config(lexicon, lexicon)
    config["components"][1] = {"name": "negation", "factory": f"{toy_config.__module__}:ShippedNegationFlagger"}
    packaged, artifacts = package_config(config)
    assert sorted(Path(p).name for p in artifacts.values()) == ["lexicon.json", "toy_negation.json"]
    assert ARTIFACT_MARKER in packaged["components"][1]["config"]["rules"]
    model = mlflow.pyfunc.load_model(str(save_pipeline_model(config, tmp_path / "model")))
    [record] = model.predict([{"note_id": 1, "text": "Discharged without fever."}])
    assert [(e["text"], e["negated"]) for e in record["entities"]] == [("fever", True)]


def test_missing_component_file_is_reported_by_component_and_setting(tmp_path):
    from notenlp.lifecycle.pyfunc import package_config

    lexicon, negation = write_rules(tmp_path, {}, [])
    negation.unlink()
    with pytest.raises(FileNotFoundError, match="'negation': setting 'rules'"):
        package_config(toy_config(lexicon, negation))


def test_scores_follow_from_matches():
    gold = GoldSet("g", gold_records([0]), frozenset({"entities", "assertion", "relations", "concepts"}))
    # chest pain found but not negated, aspirin found with the wrong label, headache missed, one extra span.
    predicted = [{"note_id": 1, "relations": [], "entities": [
        {"start": 15, "end": 25, "label": "PROBLEM", "negated": False},
        {"start": 35, "end": 42, "label": "PROBLEM", "negated": False},
        {"start": 0, "end": 7, "label": "PROBLEM", "negated": False},
    ]}]
    metrics = score_records(gold, predicted)
    assert metrics["g.entity_strict_precision"] == pytest.approx(1 / 3)
    assert metrics["g.entity_strict_recall"] == pytest.approx(1 / 3)
    assert metrics["g.assertion_coverage"] == pytest.approx(2 / 3)  # spans matched regardless of label
    assert metrics["g.assertion_accuracy"] == pytest.approx(1 / 2)  # aspirin right, chest pain's negation wrong
    assert metrics["g.negated_f1"] == pytest.approx(0.0, abs=1e-12)
    assert "g.relation_f1" not in metrics and "g.concept_accuracy" not in metrics  # gold has none


def test_gate_rule():
    champion = {"a.f1": 0.80, "a.recall": 0.70, "a.tp": 40}
    ok, reason, deltas = compare({"a.f1": 0.78, "a.recall": 0.75, "a.tp": 1}, champion, tracked=None, margin=0.03)
    assert ok and deltas == pytest.approx({"a.f1": -0.02, "a.recall": 0.05})  # counts are not compared
    ok, reason, _ = compare({"a.f1": 0.76, "a.recall": 0.90}, champion, tracked=None, margin=0.03)
    assert not ok and "a.f1 worse by 0.0400" in reason
    ok, reason, _ = compare({"a.f1": 0.9}, champion, tracked=["a.f1", "a.recall"], margin=0.0)
    assert not ok and "lacks" in reason
    ok, _, _ = compare({"a.ms": 120.0}, {"a.ms": 100.0}, tracked=["a.ms"], margin=10, lower_is_better=["a.ms"])
    assert not ok


def test_train_evaluate_register_promote_with_a_gate(toy_world, capsys):
    settings = Settings.from_env()
    versions = {}
    for label, notes in (("partial", [0, 1]), ("full", [0, 1, 2, 3]), ("degraded", [2, 3])):
        toy_world.train_on(notes)
        trained = steps.train(TOY, settings=settings)
        metrics = {**trained["metrics"], **steps.evaluate(TOY, settings=settings)}
        version = steps.register(TOY, metrics, settings=settings)
        versions[label] = (version, metrics, steps.promote(TOY, version, settings=settings))

    version, metrics, decision = versions["partial"]
    assert version == "1" and metrics["train.lexicon_terms"] == 6
    assert metrics["toy_gold.entity_strict_f1"] == pytest.approx(12 / 17)  # 6 of 11 gold entities, no false ones
    assert decision.promoted and decision.champion_before is None
    version, metrics, decision = versions["full"]
    assert metrics["toy_gold.entity_strict_f1"] == pytest.approx(1.0, rel=1e-9)
    assert metrics["toy_gold.negated_f1"] == pytest.approx(1.0, rel=1e-9)
    assert decision.promoted and decision.champion_before == "1"
    assert decision.deltas["toy_gold.entity_strict_f1"] == pytest.approx(1 - 12 / 17)
    version, metrics, decision = versions["degraded"]
    assert metrics["toy_gold.entity_strict_f1"] == pytest.approx(10 / 16)
    assert not decision.promoted and "toy_gold.entity_strict_f1 worse by 0.3750" in decision.reason

    rows = {row["version"]: row for row in list_versions(TOY, settings=settings)}
    assert rows["2"]["aliases"] == ["champion"] and rows["3"]["aliases"] == []
    assert [rows[v]["decision"] for v in "123"] == ["promoted", "promoted", "rejected"]
    assert rows["3"]["metrics"]["toy_gold.entity_strict_f1"] == pytest.approx(0.625)

    champion_version, folder = resolve_champion(TOY, settings=settings)
    assert champion_version == "2"
    overrides = pipeline_overrides_from_champions(settings)
    assert list(overrides) == ["tagger"] and overrides["tagger"]["rules"].startswith(str(folder))
    assert len(json.loads(open(overrides["tagger"]["rules"]).read())) == 11
    # The nightly pipeline composes its own config and takes the champion's files through overrides.
    toy_world.train_on([3])  # the working copy changes; the champion does not
    steps.train(TOY, settings=settings)
    config = toy_config(toy_world.lexicon, toy_world.lexicon.parent / "negation.json")
    from notenlp.jsonl import annotation_record, doc_from_record

    doc = Pipeline.from_config(config, overrides=overrides)(doc_from_record({"note_id": 1, "text": "No rash today. Persistent cough."}))
    assert [(e["text"], e["negated"]) for e in annotation_record(doc)["entities"]] == [("rash", True), ("cough", False)]
    # NOTE_NLP.nlp_system names the champion versions the night runs with, within varchar(250).
    system = nlp_system(config, {TOY: champion_version, "notenlp-ner": "12"})
    assert system.startswith("notenlp 0.1.0; pipeline ") and system.endswith(f"; notenlp-ner v12; {TOY} v2")
    assert len(nlp_system(config, {f"m{i}" * 20: str(i) for i in range(20)})) == NLP_SYSTEM_MAX

    assert main(["models", "list", TOY]) == 0
    listing = capsys.readouterr().out
    assert "champion" in listing and "rejected" in listing
    assert main(["models", "promote", TOY, "3", "--margin", "0.5"]) == 0
    assert "notenlp-toy v3 promoted" in capsys.readouterr().out
    assert resolve_champion(TOY, settings=settings)[0] == "3"


def test_registry_is_off_when_settings_say_so(toy_world):
    assert pipeline_overrides_from_champions(Settings.from_env(use_registered_models=False)) == {}


def test_cli_prints_serve_and_ui_commands(toy_world, capsys):
    assert main(["models", "serve", "toy", "--port", "5123"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.endswith("mlflow models serve -m models:/notenlp-toy@champion --env-manager local -h 127.0.0.1 -p 5123")
    assert out.startswith(f"MLFLOW_TRACKING_URI=sqlite:///{toy_world.home.resolve()}/mlruns/mlflow.db ")
    assert main(["models", "ui"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"mlflow ui --backend-store-uri sqlite:///{toy_world.home.resolve()}/mlruns/mlflow.db -h 127.0.0.1 -p 5000")


def test_a_saved_model_folder_registers_and_resolves(toy_world, tmp_path):
    from notenlp.lifecycle.pyfunc import save_pipeline_model
    from notenlp.lifecycle.registry import model_config, promote_if_better, register

    settings = Settings.from_env()
    lexicon, negation = write_rules(tmp_path / "saved", {"fever": "PROBLEM"}, ["no"])
    folder = save_pipeline_model(toy_config(lexicon, negation), tmp_path / "saved_model")
    version = register("notenlp-saved", folder, {"x.f1": 0.5}, {"source": "folder"}, settings=settings)
    decision = promote_if_better("notenlp-saved", version, settings=settings)
    assert (version, decision.promoted, decision.reason) == ("1", True, "first version: no champion yet")
    assert promote_if_better("notenlp-saved", version, settings=settings).reason == "already the champion"
    _, local = resolve_champion("notenlp-saved", settings=settings)
    rules = [c["config"]["rules"] for c in model_config(local)["components"]]
    assert all(r.startswith(str(local)) for r in rules)
    assert json.loads(open(rules[0]).read()) == {"fever": "PROBLEM"}
