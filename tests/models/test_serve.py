"""`mlflow models serve` answers the JSONL contract for the champion of notenlp-pipeline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from notenlp.config import Settings
from notenlp.lifecycle.catalog import PIPELINE_MODEL
from notenlp.lifecycle.cli import serve_command
from notenlp.lifecycle.registry import promote_if_better, register

from tests.ports import free_port

from .components import import_root, toy_config, write_rules

REPO = Path(__file__).resolve().parents[2]



def wait_until_ready(url: str, server: subprocess.Popen, deadline_s: float, log_path: Path) -> None:
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        assert server.poll() is None, f"the model server exited early (log: {log_path})"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"model server not ready within {deadline_s:.0f} s")


@pytest.mark.slow
def test_served_champion_answers_the_jsonl_contract(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings(home=tmp_path / "home")
    lexicon, negation = write_rules(tmp_path / "rules", {"chest pain": "PROBLEM", "aspirin": "DRUG"}, ["denies"])
    version = register(PIPELINE_MODEL, toy_config(lexicon, negation), {"toy.entity_strict_f1": 1.0},
                       settings=settings)
    assert promote_if_better(PIPELINE_MODEL, version, settings=settings).promoted

    port = free_port()
    command = serve_command(PIPELINE_MODEL, "champion", port)
    assert command[:5] == ["mlflow", "models", "serve", "-m", "models:/notenlp-pipeline@champion"]
    env = {**os.environ, "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(import_root())]),
           # mlflow starts uvicorn by name: it must be this environment's.
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    server = subprocess.Popen([sys.executable, "-m", *command], env=env, cwd=tmp_path, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "w"))
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/ping", server, deadline_s=90, log_path=tmp_path / "server.log")
        body = json.dumps({"dataframe_records": [
            {"note_id": 11, "person_id": 5, "note_date": "2024-03-01", "text": "Denies chest pain. On aspirin."},
            {"note_id": 12, "text": "Aspirin allergy."},
        ]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    first, second = answer["predictions"]
    assert first["note_id"] == 11 and second["note_id"] == 12
    assert [(e["start"], e["end"], e["label"], e["negated"], e["term_exists"]) for e in first["entities"]] == [
        (7, 17, "PROBLEM", True, "N"), (22, 29, "DRUG", False, "Y")]
    assert [e["text"] for e in second["entities"]] == ["Aspirin"] and second["relations"] == []
