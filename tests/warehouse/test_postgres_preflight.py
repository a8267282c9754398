"""Preflight on a PostgreSQL warehouse: a night whose last night used registered models is refused when the MLflow
store lacks their champions, as on DuckDB (it would run the shipped files and reprocess every note); an
unreachable warehouse is one ConfigError line. (Real server from conftest; no Spark, no MLflow server.)"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from notenlp.config import ConfigError, Settings
from notenlp.preflight import check_models, last_night_models
from notenlp.warehouse import postgres
from tests.ports import free_port

SYSTEM = "notenlp 0.1.0; pipeline 0123456789ab; deid 0123456789ab surrogate dates shift; notenlp-ner v3"


@pytest.fixture
def settings(postgres_url, tmp_path, monkeypatch):
    monkeypatch.delenv("NOTENLP_MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("drop schema if exists results cascade; drop schema if exists vocab cascade")
    return Settings(home=tmp_path / "home", warehouse_url=postgres_url)


def test_a_night_after_one_on_champions_is_refused_without_them(settings):
    assert last_night_models(settings) is None  # no schema yet: no night
    postgres.ensure_schema(settings)
    assert last_night_models(settings) is None  # no night yet
    with postgres.connect(settings) as con:
        con.execute("insert into results.notenlp_note_state values (1, 'h', %s, %s), (2, 'h', 'older', %s)",
                    (SYSTEM, date(2026, 12, 5), date(2026, 12, 4)))
    assert last_night_models(settings) == ("2026-12-05", {"notenlp-ner"})
    # the home's own store holds no champion: the night of 2026-12-05 used notenlp-ner v3
    with pytest.raises(ConfigError, match="lacks the champion of notenlp-ner .the night of 2026-12-05"):
        check_models(settings)
    allowed = Settings(home=settings.home, warehouse_url=settings.warehouse_url, allow_shipped_models=True)
    assert check_models(allowed) == {}


def test_an_unreachable_warehouse_is_one_config_error(tmp_path):
    url = f"postgresql://notenlp:secret@127.0.0.1:{free_port()}/site"  # nothing listens there
    with pytest.raises(ConfigError, match=r"PostgreSQL warehouse postgresql://notenlp:\*\*\*@127.0.0.1") as refused:
        last_night_models(Settings(home=tmp_path, warehouse_url=url))
    assert "secret" not in str(refused.value)
