"""A night's helpers: where its partitions live (``Night``), its run-log record (``StageLog``), and
partition reads and writes.

Every stage writes its output partition ``<staging>/<stage>/run_date=D`` and its quarantine
partition ``<staging>/quarantine/stage=<stage>/run_date=D`` with mode overwrite, so re-running a
stage or a whole night replaces that night's data. Each stage also writes a run-log record
(rows in / out / quarantined / skipped, timings) that the load stage puts in ``notenlp_run_log``.
Imports nothing heavy: pyspark frames arrive as arguments.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from notenlp.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Night:
    """One night's run: where its data lives and which system version produces it."""

    settings: Settings
    run_date: date
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(tzinfo=None))

    @property
    def key(self) -> str:
        return f"run_date={self.run_date.isoformat()}"

    def part(self, stage: str, table: str | None = None) -> Path:
        # Ingested notes still hold PHI, so they stay in the owner-only sealed area.
        base = self.settings.sealed / "staging" / stage if stage == "ingest" else self.settings.stage_dir(stage)
        return (base / table if table else base) / self.key

    def quarantine_part(self, stage: str) -> Path:
        return self.settings.staging / "quarantine" / f"stage={stage}" / self.key

    @property
    def meta_dir(self) -> Path:
        return self.settings.staging / "_runs" / self.key

    def work_dir(self, stage: str) -> Path:
        """Scratch Parquet of a stage (no PHI), removed by the stage when it is done."""
        return self.settings.staging / "_work" / self.key / stage

    @property
    def sealed_work(self) -> Path:
        return self.settings.sealed / "work" / self.key

    @property
    def nlp_system(self) -> str:
        path = self.meta_dir / "nlp_system.txt"
        if not path.exists():
            raise RuntimeError(f"no nlp_system recorded for {self.key}: run the ingest stage of this night first")
        return path.read_text(encoding="utf-8").strip()

    def annotate_config(self) -> dict[str, Any]:
        return json.loads((self.meta_dir / "annotate_pipeline.json").read_text(encoding="utf-8"))


@dataclass
class StageLog:
    stage: str
    started_at: datetime
    finished_at: datetime | None = None
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0

    def write(self, night: Night) -> None:
        self.finished_at = datetime.now(timezone.utc).replace(tzinfo=None)
        night.meta_dir.mkdir(parents=True, exist_ok=True)
        record = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}
        (night.meta_dir / f"stage_{self.stage}.json").write_text(json.dumps(record), encoding="utf-8")
        log.info(
            "%s %s: in=%d out=%d quarantined=%d skipped=%d (%.1fs)", self.stage, night.key, self.rows_in,
            self.rows_out, self.rows_quarantined, self.rows_skipped,
            (self.finished_at - self.started_at).total_seconds(),
        )
        if self.rows_in != self.rows_out + self.rows_quarantined + self.rows_skipped:
            raise RuntimeError(
                f"{self.stage}: rows do not reconcile: in={self.rows_in} != out={self.rows_out} + "
                f"quarantined={self.rows_quarantined} + skipped={self.rows_skipped}"
            )
        limit = night.settings.max_quarantine_rate
        if self.rows_in and self.rows_quarantined / self.rows_in > limit:
            raise StageQuarantineError(self.stage, self.rows_in, self.rows_quarantined, limit,
                                       quarantine_reasons(night, self.stage))


class StageQuarantineError(RuntimeError):
    """A stage quarantined more of its rows than Settings.max_quarantine_rate allows (counts only, no text)."""

    def __init__(self, stage: str, rows_in: int, quarantined: int, limit: float, reasons: dict[str, int]):
        by_count = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        listed = ", ".join(f"{reason}={n}" for reason, n in by_count)
        super().__init__(f"{stage}: {quarantined} of {rows_in} rows quarantined ({quarantined / rows_in:.1%} > "
                         f"max {limit:.1%}); reasons: {listed}")


def quarantine_reasons(night: Night, stage: str) -> dict[str, int]:
    import pyarrow.parquet as pq

    path = night.quarantine_part(stage)
    if not path.exists():
        return {}
    reasons = pq.read_table(path, columns=["reason"]).column("reason").to_pylist()
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def write_partition(df, path: Path) -> int:
    """Write a partition (replacing it) and return its row count, read back from the files."""
    df.write.mode("overwrite").parquet(str(path))
    return df.sparkSession.read.parquet(str(path)).count()


def read_partition(spark, path: Path, schema: str):
    if not path.exists():
        raise FileNotFoundError(f"missing stage input {path}: run the previous stage of this night first")
    return spark.read.schema(schema).parquet(str(path))


def write_quarantine(night: Night, stage: str, frames: list) -> int:
    from functools import reduce

    merged = reduce(lambda a, b: a.unionByName(b), frames)
    return write_partition(merged, night.quarantine_part(stage))


def sealed_dir(night: Night, path: Path) -> Path:
    """A folder under the sealed area, readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(night.settings.sealed, 0o700)
    return path
