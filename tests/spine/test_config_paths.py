"""Folder settings take a local path or a file:// URI; any other scheme is one clear line, not a local folder
named ``s3a:``, and the line never repeats the URI (it may hold credentials)."""

from pathlib import Path

import pytest

from notenlp.config import ConfigError, Settings


def test_file_uris_are_local_paths(tmp_path):
    settings = Settings(home=tmp_path.as_uri(), staging=(tmp_path / "shared staging").as_uri())
    assert settings.home == tmp_path.resolve()
    assert settings.staging == tmp_path / "shared staging"
    assert settings.sealed == tmp_path.resolve() / "sealed"


@pytest.mark.parametrize("uri", ["s3a://key:secret@bucket/staging", "hdfs://namenode:8020/notenlp"])
def test_other_schemes_are_refused_without_echoing_the_uri(tmp_path, uri):
    with pytest.raises(ConfigError) as raised:
        Settings(home=tmp_path, staging=uri)
    message = str(raised.value)
    assert message.startswith("NOTENLP_STAGING is a ") and "file://" in message
    assert "secret" not in message and "namenode" not in message
    assert not Path("s3a:").exists() and not (tmp_path / "s3a:").exists()


def test_the_cli_reports_a_refused_uri_as_one_line(tmp_path, monkeypatch, capsys):
    from notenlp.cli import main

    monkeypatch.setenv("NOTENLP_STAGING", "s3a://bucket/staging")
    assert main(["nightly", "--home", str(tmp_path), "--input", str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
