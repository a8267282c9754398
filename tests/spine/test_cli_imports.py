"""``notenlp annotate`` and ``notenlp deid`` import only what they need: a start pays for no Spark, Airflow,
MLflow, Great Expectations, pandas or spaCy (whole-process runs on small files are mostly start-up)."""

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("pyspark", "mlflow", "airflow", "great_expectations", "pandas", "sklearn", "duckdb", "spacy", "medspacy")


@pytest.mark.parametrize("command", ["annotate", "deid"])
def test_command_imports_no_heavy_package(tmp_path, command):
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"note_id": 1, "text": "Pt seen by Dr. Smith on 3/4/2101. Denies chest pain; "
                                                       "metformin 500 mg PO BID."}) + "\n", encoding="utf-8")
    (tmp_path / "secret.hex").write_text("ab" * 32, encoding="utf-8")
    extra = ["--secret-file", str(tmp_path / "secret.hex")] if command == "deid" else []
    if command == "annotate":
        from notenlp.vocab.lookup import resolve_dictionary_path

        resolve_dictionary_path(None)  # compiled once (with DuckDB) into the cache; a start only reads it
    script = textwrap.dedent(f"""
        import json, sys
        from notenlp.cli import main
        code = main({[command, "--input", str(notes), "--output", str(tmp_path / "out.jsonl"), *extra]!r})
        print(json.dumps({{"code": code, "modules": sorted({{m.split(".")[0] for m in sys.modules}})}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").count("\n") == 1
    assert sorted(set(HEAVY) & set(result["modules"])) == []


def test_a_warm_annotate_start_loads_no_numba_or_pyarrow(tmp_path):
    """With the cache filled by an earlier run, a few notes neither load Numba (decoded in Python first) nor read
    the dictionary's Parquet (its rows come from the cache)."""
    notes = tmp_path / "notes.jsonl"
    notes.write_text(json.dumps({"note_id": 1, "text": "Denies chest pain; metformin 500 mg PO BID for diabetes."})
                     + "\n", encoding="utf-8")
    script = textwrap.dedent(f"""
        import json, sys
        from notenlp.cli import main
        code = main({["annotate", "--input", str(notes), "--output", str(tmp_path / "out.jsonl")]!r})
        print(json.dumps({{"code": code, "modules": sorted({{m.split(".")[0] for m in sys.modules}})}}))
    """)
    for run in ("fills the cache", "reads it"):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["code"] == 0, run
    assert sorted({"numba", "pyarrow", "scipy", "llvmlite"} & set(result["modules"])) == []
