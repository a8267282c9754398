"""notenlp as a site installs it: the sdist and wheel built from this checkout, the wheel installed with the
locked dependencies into a fresh virtual environment outside the repository, and ``notenlp annotate`` and a
20-note night run there from a folder outside the repository, with nothing of the checkout on the path.

The dependencies come from uv's cache (the one ``run.sh`` fills when it builds ``.venv``), linked, not
downloaded, so the install takes seconds; without a cache uv downloads them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.install]
ROOT = Path(__file__).resolve().parents[2]
N_NOTES = 20


def _run(command: list[str], *, timeout: int = 900, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))}:\n{(done.stdout + done.stderr)[-4000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """A fresh virtual environment (outside the repository) holding the built wheel and the locked dependencies."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv not found (run.sh installs it): the wheel cannot be built and installed")
    tmp = tmp_path_factory.mktemp("wheel")
    assert ROOT not in tmp.resolve().parents
    dist = tmp / "dist"
    # sdist first, then the wheel from the unpacked sdist (uv's default): the sdist must carry what the wheel needs.
    _run([uv, "build", "--no-build-isolation", "--python", sys.executable, "--out-dir", str(dist), str(ROOT)])
    wheel = next(dist.glob("notenlp-*.whl"))
    venv = tmp / "venv"
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    sync = [uv, "pip", "sync", "--quiet", str(ROOT / "requirements.lock")]
    if subprocess.run([*sync, "--offline"], env=env, capture_output=True, timeout=900).returncode != 0:
        _run(sync, env=env)  # the cache lacks a locked wheel: download it
    _run([uv, "pip", "install", "--quiet", "--offline", "--no-deps", str(wheel)], env=env)
    _run([uv, "pip", "check"], env=env)  # the wheel's declared dependencies are what requirements.lock pins
    run_dir = tmp / "run"
    run_dir.mkdir()
    bin_dir = venv / "bin"
    run_env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE") and not k.startswith("NOTENLP_")}
    run_env.update({"PATH": os.pathsep.join([str(bin_dir), *os.environ.get("PATH", "").split(os.pathsep)]),
                    "PYSPARK_PYTHON": str(bin_dir / "python"), "PYSPARK_DRIVER_PYTHON": str(bin_dir / "python"),
                    "NOTENLP_CACHE": os.environ.get("NOTENLP_CACHE", str(Path.home() / ".cache" / "notenlp"))})
    return {"wheel": wheel, "venv": venv, "bin": bin_dir, "run": run_dir, "env": run_env}


def test_the_wheel_carries_sql_expectations_recipes_and_resources(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for folder in ("sql", "expectations", "models"):
        shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
        assert shipped and {f"notenlp/_data/{name}" for name in shipped} <= names, folder
    resources = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src" / "notenlp" / "resources").rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert resources <= names


def test_the_installed_package_finds_its_data_inside_itself(installed):
    script = textwrap.dedent("""
        import json, notenlp
        from notenlp.lifecycle.catalog import load_catalog, recipe_path
        from notenlp.quality.suites import EXPECTATIONS_DIR
        from notenlp.resources import RESOURCE_DIR, source_root
        from notenlp.vocab.loader import DDL_PATH
        from notenlp.warehouse import SQL_DIR
        recipes = [str(recipe_path(spec)) for spec in load_catalog().values() if spec.recipe]
        print(json.dumps({"package": notenlp.__file__, "sql": str(SQL_DIR), "expectations": str(EXPECTATIONS_DIR),
                          "ddl": DDL_PATH.is_file(), "resources": str(RESOURCE_DIR), "recipes": recipes,
                          "checkout": source_root() is not None}))
    """)
    done = _run([str(installed["bin"] / "python"), "-c", script], cwd=installed["run"], env=installed["env"])
    found = json.loads(done.stdout.strip().splitlines()[-1])
    package = Path(found["package"]).parent
    assert installed["venv"] in package.parents and not found["checkout"] and found["ddl"]
    assert Path(found["sql"]) == package / "_data" / "sql" and Path(found["expectations"]) == package / "_data" / "expectations"
    assert Path(found["resources"]) == package / "resources"
    assert found["recipes"] and all(Path(r).is_relative_to(package / "_data" / "models") for r in found["recipes"])


def test_installed_annotate_and_night_run_outside_the_repository(installed):
    run_dir, env = installed["run"], installed["env"]
    notes = run_dir / "notes.jsonl"
    notes.write_text(json.dumps({"note_id": 1, "text": "Denies chest pain; metformin 500 mg PO BID for diabetes."})
                     + "\n", encoding="utf-8")
    notenlp = str(installed["bin"] / "notenlp")
    _run([notenlp, "annotate", "--input", notes.name, "--output", "out.jsonl"], cwd=run_dir, env=env)
    entities = json.loads((run_dir / "out.jsonl").read_text(encoding="utf-8"))["entities"]
    assert {(e["text"], e["term_exists"]) for e in entities if e["concept_id"]} >= {("chest pain", "N"),
                                                                                    ("metformin", "Y")}

    done = _run([notenlp, "nightly", "--demo", "--demo-notes", str(N_NOTES), "--home", "home", "--master", "local[2]",
                 "--run-date", "2026-11-01", "--no-register-models"], cwd=run_dir, env=env, timeout=1500)
    assert "notenlp nightly 2026-11-01: done" in done.stdout
    home = run_dir / "home"
    with duckdb.connect(str(home / "warehouse" / "notenlp.duckdb"), read_only=True) as con:
        notes_loaded = con.execute("select count(*) from note").fetchone()[0]
        ingested = con.execute("select rows_in from notenlp_run_log where stage = 'ingest'").fetchall()
        note_nlp = con.execute("select count(*), count(note_nlp_concept_id) from note_nlp").fetchone()
    assert ingested == [(N_NOTES,)] and notes_loaded >= N_NOTES * 0.9
    assert note_nlp[0] > 5 * notes_loaded and note_nlp[1] > 0
    # The GX suites ran from the package's expectations (their results are in the Data Docs site).
    assert (home / "staging" / "data_docs" / "index.html").is_file()
    assert list((home / "reports").glob("notenlp-report-2026-11-01.html"))
