"""Checks a night's configuration before any work, so that a mistake is one line and nothing is changed.

* the input exists, and an OMOP input is Parquet (Spark's reader on a CSV fails deep inside the JVM);
* the home, warehouse, staging and sealed folders can be written (or created);
* the MLflow store answers within seconds, and, when champions are expected, holds them: a night on an
  empty or wrong store would run the shipped model files and, its ``nlp_system`` changed, reprocess
  every note. Champions are expected when the warehouse's last night used registered models, or when
  ``NOTENLP_MLFLOW_TRACKING_URI`` names a store on purpose; ``allow_shipped_models`` (``--allow-shipped-
  models``, ``NOTENLP_ALLOW_SHIPPED_MODELS``) runs the shipped files anyway, with a warning.

Every failure is a ``ConfigError`` naming paths, URIs and model names only, never data. ``guarded`` runs
the checks and holds the night lock (``notenlp.runlock``); ``run_night`` and ``run_stage`` enter it.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from notenlp.config import ConfigError, Settings

log = logging.getLogger(__name__)
# MLflow's own defaults (120 s per request, 7 retries with backoff) make each registry call on an
# unreachable server hang for minutes; the probe allows PROBE_TIMEOUT_S and no retry, the night a bounded few.
PROBE_TIMEOUT_S = 5
NIGHT_HTTP_TIMEOUT_S = "30"
NIGHT_HTTP_RETRIES = "2"
_MODEL_PART = re.compile(r"^(\S+) v(\d+)$")


# ------------------------------------------------------------------------------------------------- input
def _is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def check_input(source: str, path: str | None) -> None:
    """The input exists (a file, folder or glob) and is what ``--source`` reads: MIMIC/JSONL files by their
    header (``source_files.check_source``), an OMOP input by its Parquet marker and NOTE columns."""
    from notenlp.stages.source_files import OMOP_REQUIRED, check_source, source_files

    if not path:
        raise ConfigError("no input: pass --input PATH (DAG param 'input' or NOTENLP_INPUT)")
    if _is_remote(path):  # hdfs://, s3a://: only the cluster can look
        return
    path = path.removeprefix("file://")
    if not glob.glob(path) and not os.path.exists(path):
        raise ConfigError(f"input {path} does not exist")
    files = [Path(f) for f in source_files(path)]  # the reader's own listing: the files Spark will read
    if source != "omop":
        check_source(source, path)
        return
    for file in files:
        with open(file, "rb") as handle:
            magic = handle.read(4)
        if magic != b"PAR1":
            hint = "a CSV file" if file.suffix.lower() in (".csv", ".gz") else "not Parquet"
            raise ConfigError(f"--source omop reads an OMOP NOTE table in Parquet, but {file} is {hint}: pass "
                              "--source mimic3 or mimic4 for MIMIC CSV, jsonl for JSONL, or export the table "
                              "to Parquet")
    import pyarrow.parquet as pq

    columns = {name.lower() for name in pq.read_schema(files[0]).names}
    missing = [c for c in OMOP_REQUIRED if c not in columns]
    if missing:
        raise ConfigError(f"--source omop needs the OMOP NOTE columns {', '.join(OMOP_REQUIRED)}, but {files[0]} "
                          f"lacks {', '.join(missing)}")


# -------------------------------------------------------------------------------------------------- home
def _check_writable(folder: Path, what: str) -> None:
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{what} {folder} cannot be created: {existing} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".notenlp-write-check-", dir=existing)
    except OSError as exc:
        raise ConfigError(f"{what} {folder} is not writable ({exc.strerror or type(exc).__name__} in {existing})") \
            from exc
    os.close(fd)
    os.unlink(probe)


def check_home(settings: Settings) -> None:
    """Home, warehouse folder, staging and sealed area can be written, or created, by this user."""
    for folder, what in ((settings.home, "home"), (Path(settings.warehouse).parent, "warehouse folder"),
                         (settings.staging, "staging folder"), (settings.sealed, "sealed folder")):
        _check_writable(Path(folder), what)


# ------------------------------------------------------------------------------------------------ models
def bound_mlflow_requests() -> None:
    """Registry calls of the night give up after tens of seconds, not minutes (a user's own values win)."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", NIGHT_HTTP_TIMEOUT_S)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", NIGHT_HTTP_RETRIES)


@contextmanager
def _probe_limits() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_HTTP_REQUEST_MAX_RETRIES")}
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(PROBE_TIMEOUT_S)
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def models_in(nlp_system: str) -> set[str]:
    """Registered model names an ``nlp_system`` string lists ('...; notenlp-ner v3; ...')."""
    return {m.group(1) for part in nlp_system.split("; ") if (m := _MODEL_PART.match(part.strip()))}


def last_night_models(settings: Settings) -> tuple[str, set[str]] | None:
    """(run date, registered models) of the warehouse's last processed night, or None (no warehouse, no night)."""
    if settings.on_postgres:
        return _last_postgres_night_models(settings)
    warehouse = Path(settings.warehouse)
    if not warehouse.exists():
        return None
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute("select run_date, nlp_system from notenlp_note_state "
                              "order by run_date desc limit 1").fetchone()
    except duckdb.CatalogException:  # no night loaded yet
        return None
    except duckdb.Error as exc:  # e.g. another program holds its write lock
        raise ConfigError(f"warehouse {warehouse} cannot be read ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0]})") from exc
    return (str(row[0]), models_in(row[1])) if row else None


def _last_postgres_night_models(settings: Settings) -> tuple[str, set[str]] | None:
    import psycopg

    from notenlp.config import redacted_url
    from notenlp.warehouse import postgres

    try:
        row = postgres.last_night_system(settings)
    except psycopg.Error as exc:  # the class only: a server's message may quote the URL
        raise ConfigError(f"PostgreSQL warehouse {redacted_url(settings.warehouse_url)} cannot be read "
                          f"({type(exc).__name__})") from exc
    return (str(row[0]), models_in(row[1])) if row else None


def _sqlite_file(uri: str) -> Path | None:
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def registered_champions(settings: Settings) -> dict[str, str]:
    """{model: champion version} of the catalog in the store, asked within PROBE_TIMEOUT_S; a local store
    that does not exist yet holds none (and is not created here)."""
    uri = settings.mlflow_tracking_uri
    store = _sqlite_file(uri)
    if store is not None and not store.exists():
        return {}
    from notenlp.lifecycle.registry import _client, champion_versions

    with _probe_limits():
        try:
            _client(settings).search_registered_models(max_results=1)
        except Exception as exc:
            failed = f"did not answer within {PROBE_TIMEOUT_S}s" if uri.startswith("http") else "cannot be read"
            raise ConfigError(f"MLflow store {uri} {failed} ({type(exc).__name__}); check "
                              "NOTENLP_MLFLOW_TRACKING_URI, or set "
                              "NOTENLP_USE_REGISTERED_MODELS=false to run the shipped model files") from exc
        return champion_versions(settings)


def check_models(settings: Settings) -> dict[str, str]:
    """The champions the night will use; ConfigError when expected ones are missing (unless allowed)."""
    if not settings.use_registered_models:
        return {}
    from notenlp.lifecycle.catalog import load_catalog

    bound_mlflow_requests()
    found = registered_champions(settings)
    uri = settings.mlflow_tracking_uri
    lacking = ""
    last = last_night_models(settings)
    if last and (missing := sorted((last[1] & set(load_catalog())) - set(found))):
        lacking = (f"lacks the champion of {', '.join(missing)} (the night of {last[0]} in this warehouse "
                   f"used {'it' if len(missing) == 1 else 'them'})")
    elif not found and os.environ.get("NOTENLP_MLFLOW_TRACKING_URI") not in (
            None, "", Settings.home_tracking_uri(settings.home)):  # naming the home's own store is no choice
        lacking = "holds no champion model (NOTENLP_MLFLOW_TRACKING_URI names it on purpose)"
    if not lacking:
        if not found:
            log.info("no champion model registered in %s: the night runs the shipped model files", uri)
        return found
    if not settings.allow_shipped_models:
        raise ConfigError(f"MLflow store {uri} {lacking}: the night would run the shipped model files and "
                          "reprocess every note; point NOTENLP_MLFLOW_TRACKING_URI at the registry that holds "
                          "the champions, or pass --allow-shipped-models")
    log.warning("MLflow store %s %s: running the shipped model files (--allow-shipped-models)", uri, lacking)
    return found


# ------------------------------------------------------------------------------------------------- night
@contextmanager
def guarded(night, stages, params: dict | None = None) -> Iterator[None]:
    """Check what ``stages`` of ``night`` need, then hold the night lock while they run; inside a run that
    already holds it (``run_night`` around ``run_stage``) only names the stage in the lock.

    Order: home and input first (nothing written), then the lock (a second night is refused at once,
    before it probes MLflow), then the models.
    """
    from notenlp.runlock import holds, night_lock

    settings, params = night.settings, dict(params or {})
    stage = stages[0] if len(stages) == 1 else None
    if holds(settings):
        with night_lock(settings, night.run_date, stage):
            yield
        return
    check_home(settings)
    if "ingest" in stages:
        check_input(params.get("source") or "mimic3", params.get("input"))
    with night_lock(settings, night.run_date, stage):
        if "ingest" in stages:
            check_models(settings)
        yield
