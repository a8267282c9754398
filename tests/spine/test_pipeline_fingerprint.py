"""The pipeline id in ``nlp_system`` names what ran, not where: the same config and file contents under two
homes (a local night and a cluster night, a checkout and an installed wheel) give the same id."""

from notenlp.fingerprints import DICTIONARY_DIR, fingerprint_config


def _config(folder, rules: bytes, dictionary: bytes):
    (folder / DICTIONARY_DIR).mkdir(parents=True)
    (folder / "rules.json").write_bytes(rules)
    (folder / DICTIONARY_DIR / "dictionary-abc123.parquet").write_bytes(dictionary)
    return {"components": [{"name": "context", "rules": str(folder / "rules.json")},
                           {"name": "normalize", "dictionary": str(folder / DICTIONARY_DIR / "dictionary-abc123.parquet")}]}


def test_the_id_follows_contents_not_folders(tmp_path):
    here = fingerprint_config(_config(tmp_path / "local", b"[1]", b"bytes of one compilation"))
    # Another home; the compiled dictionary has the same content key but other bytes (DuckDB's Parquet).
    there = fingerprint_config(_config(tmp_path / "cluster", b"[1]", b"bytes of another compilation"))
    assert here == there
    assert fingerprint_config(_config(tmp_path / "edited", b"[2]", b"bytes of one compilation")) != here
