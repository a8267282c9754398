import argparse

import duckdb
import pytest

from notenlp.evaluation import vocab_bench as bench
from notenlp.vocab import cli


def test_generated_bench_vocabulary_loads(tmp_path):
    from notenlp.vocab.loader import load_athena

    bench.generate_athena(tmp_path / "athena", concepts=1000, synonyms=2000)
    counts = load_athena(tmp_path / "w.duckdb", tmp_path / "athena")
    assert counts["concept"] == 1000 and counts["concept_synonym"] == 2000
    assert counts["concept_relationship"] == 2 * 400  # a Maps to / Mapped from pair per non-standard concept
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    unmapped = con.execute("""SELECT count(*) FROM concept c WHERE standard_concept IS NULL AND NOT EXISTS (
        SELECT 1 FROM concept_relationship r JOIN concept t ON t.concept_id = r.concept_id_2
        WHERE r.concept_id_1 = c.concept_id AND r.relationship_id = 'Maps to' AND t.standard_concept = 'S')""")
    assert unmapped.fetchone()[0] == 0
    drug = con.execute("SELECT concept_name FROM concept WHERE domain_id = 'Drug' LIMIT 1").fetchone()[0]
    assert " MG " in drug


@pytest.mark.slow
def test_cli_load_compile_info_logs_to_mlflow(tmp_path, athena_dir, monkeypatch, capsys):
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args(["load", "--athena", str(athena_dir)])) == 0
    assert cli.run(parser.parse_args(["compile"])) == 0
    assert cli.run(parser.parse_args(["info"])) == 0
    out = capsys.readouterr().out
    assert "concept" in out and "logged to MLflow run" in out
    assert (tmp_path / "artifacts" / "vocab" / "dictionary.parquet").exists()
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["vocab-dictionary"])
    assert len(runs) == 1 and runs["metrics.keys"].iloc[0] > 10
