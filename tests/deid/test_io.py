"""Secret and audit permissions, the JSONL CLI, residual check, and no PHI in logs."""

import argparse
import json
import logging
import stat

import duckdb
import pandas as pd

from notenlp.deid import cli
from notenlp.deid.audit import audit_rows, write_audit
from notenlp.deid.keys import load_or_create_secret
from notenlp.deid.residual import find_residual
from notenlp.doc import Doc


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_is_created_owner_only_and_reused(tmp_path):
    sealed = tmp_path / "sealed"
    secret = load_or_create_secret(sealed)
    assert len(bytes.fromhex(secret)) == 32
    assert mode(sealed) == 0o700
    assert mode(sealed / "deid_secret.hex") == 0o600
    assert load_or_create_secret(sealed) == secret


def test_audit_is_owner_only_and_idempotent_per_note(tmp_path, surrogater):
    audit_db = tmp_path / "sealed" / "phi_audit.duckdb"
    text = "Seen by Dr. Smith on 3/4/2101."
    result = surrogater.deidentify(Doc(text, note_id=4, person_id=2))
    rows = pd.DataFrame(audit_rows(4, 2, text, result))
    write_audit(audit_db, rows)
    write_audit(audit_db, rows)
    assert mode(audit_db) == 0o600
    assert mode(audit_db.parent) == 0o700
    with duckdb.connect(str(audit_db), read_only=True) as con:
        stored = con.execute("SELECT note_id, original, phi_type FROM phi_audit ORDER BY start").fetchall()
    assert stored == [(4, "Smith", "NAME"), (4, "3/4/2101", "DATE")]


def test_jsonl_cli_round_trip(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    notes = [
        {"note_id": 1, "person_id": 5, "note_date": "2101-03-10", "text": "Wife Mary called 617-555-1234."},
        {"note_id": 2, "person_id": 5, "text": "Dr. Kowalczyk saw pt on 3/4/2101."},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(n) + "\n" for n in notes))
    secret_file = tmp_path / "key.hex"
    secret_file.write_text("cd" * 32)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    out = tmp_path / "out.jsonl"
    with caplog.at_level(logging.DEBUG):
        for mode_name in ("tag", "surrogate"):
            args = parser.parse_args(["--input", str(source), "--output", str(out), "--mode", mode_name,
                                      "--secret-file", str(secret_file), "--audit-db", str(tmp_path / "a.duckdb")])
            assert cli.run(args) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["note_id"] for r in records] == [1, 2]
    assert records[0]["phi"] == [{"start": 5, "end": 9, "type": "NAME"}, {"start": 17, "end": 29, "type": "PHONE"}]
    assert "Mary" not in records[0]["text"] and "617-555-1234" not in records[0]["text"]
    assert "Kowalczyk" not in records[1]["text"]
    for secret_value in ("Mary", "617-555-1234", "Kowalczyk", "3/4/2101"):
        assert secret_value not in caplog.text


def test_residual_patterns_find_identifiers():
    text = "ssn 123-45-6789, tel (617) 555-1234, x@y.com, http://a.b/c, MRN: 1234567"
    assert [r[0] for r in find_residual(text)] == ["SSN", "PHONE", "EMAIL", "URL", "MRN"]
    assert find_residual("[NAME] called [PHONE] on [DATE].") == []
