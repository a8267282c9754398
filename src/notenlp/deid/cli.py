"""``notenlp deid``: de-identify a JSONL file of notes, streaming line by line.

Output line per note: ``{"note_id", "text" (de-identified), "phi": [{"start", "end", "type"}]}`` with
offsets into the input text. Progress is logged as counts only, never note text.
"""

from __future__ import annotations

import argparse
import gc
import logging
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="JSONL notes ({note_id, text, person_id?, note_date?}); '-' = stdin")
    parser.add_argument("--output", required=True, help="JSONL output; '-' = stdout")
    parser.add_argument("--mode", choices=("surrogate", "tag"), default=None,
                        help="write realistic surrogates (default, NOTENLP_DEID_MODE) or [TYPE] tags")
    parser.add_argument("--secret-file", type=Path, default=None,
                        help="file holding the hex surrogate key (default: created under the sealed folder)")
    parser.add_argument("--audit-db", type=Path, default=None,
                        help="also write the sealed PHI audit (original -> replacement) to this DuckDB file")
    parser.add_argument("--detect-times", action="store_true", help="treat clock times as PHI too")


def run(args: argparse.Namespace) -> int:
    from notenlp.config import Settings
    from notenlp.deid.deidentifier import Deidentifier
    from notenlp.deid.keys import load_or_create_secret

    settings = Settings.from_env()
    mode = args.mode or settings.deid_mode
    if args.secret_file is not None:
        secret = args.secret_file.read_text(encoding="utf-8").strip()
    else:
        secret = load_or_create_secret(settings.sealed)
    # The lexicons are ~0.5 M objects that live as long as the process: a full collection while they load walks
    # them all and frees nothing, and later collections need not walk them either.
    collecting = gc.isenabled()
    gc.disable()
    try:
        deidentifier = Deidentifier(mode=mode, secret_hex=secret, detect_times=args.detect_times)
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    from notenlp.jsonl import write_records

    count = write_records(args.output, _records(deidentifier, args.input, args.audit_db))
    log.info("de-identified %d notes (%s mode)", count, mode)
    return 0


def _records(deidentifier, input_path: str, audit_db: Path | None) -> Iterator[dict]:
    from notenlp.jsonl import read_docs

    audit_batch: list[dict] = []
    started = last_report = time.monotonic()
    n_notes = n_phi = 0
    for doc in read_docs(input_path):
        result = deidentifier.deidentify(doc)
        n_notes += 1
        n_phi += len(result.phi)
        if audit_db is not None:
            from notenlp.deid.audit import audit_rows

            audit_batch.extend(audit_rows(doc.note_id, doc.person_id, doc.text, result))
            if len(audit_batch) >= 50_000:
                _flush_audit(audit_db, audit_batch)
        now = time.monotonic()
        if now - last_report >= 10:
            log.info("%d notes, %d PHI spans, %.0f notes/s", n_notes, n_phi, n_notes / (now - started))
            last_report = now
        yield {"note_id": doc.note_id, "text": result.text,
               "phi": [{"start": s.start, "end": s.end, "type": s.type} for s in result.phi]}
    if audit_db is not None and audit_batch:
        _flush_audit(audit_db, audit_batch)


def _flush_audit(audit_db: Path, batch: list[dict]) -> None:
    import pandas as pd

    from notenlp.deid.audit import write_audit

    write_audit(audit_db, pd.DataFrame(batch))
    batch.clear()
