"""``notenlp bench nightly --notes N``: one real night over N generated demo notes, stage by stage.

Writes N demo notes (the generator's MIMIC-III note-type and length mix; cached per N and seed),
runs ``run_night`` into a fresh home, and reports per stage and end to end: rows, seconds, notes/s,
MB/s of note text, and the peak resident memory of the driver's Python process, the JVM (driver and
executor in local mode) and Spark's Python workers (polled from /proc through psutil). The slowest
stage's profile is kept beside the JSON: a cProfile of the driver during the stage, plus, for the text
stages, a cProfile of the stage's pandas function over a sample of the night's notes (where the
workers spend their time).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import logging
import os
import pstats
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

log = logging.getLogger(__name__)
DEFAULT_SEED = 5
PROFILE_SAMPLE_NOTES = 200
MB = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notes", type=int, required=True, help="how many demo notes to generate and process")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"demo generator seed (default {DEFAULT_SEED})")
    parser.add_argument("--data", help="folder for the generated demo notes, reused when it already holds them "
                        "(default: ~/.cache/notenlp/bench-nightly/n<N>-s<seed>)")
    parser.add_argument("--out", default="bench-results",
                        help="folder for nightly-n<N>.json and the slowest stage's profile (default: bench-results)")
    parser.add_argument("--home", help="the night's home (must be empty or absent; default: a temporary folder, "
                        "removed afterwards unless --keep-home)")
    parser.add_argument("--keep-home", action="store_true", help="keep the temporary home (warehouse, staging)")
    parser.add_argument("--master", help="Spark master (default: NOTENLP_SPARK_MASTER or local[*])")
    parser.add_argument("--run-date", type=date.fromisoformat, default=date(2026, 12, 1),
                        help="the night's date (default 2026-12-01)")
    parser.add_argument("--fixed-secret", action="store_true",
                        help="use a surrogate key derived from the seed, so two runs give the same de-identified "
                        "text and NOTE_NLP rows (for comparing code versions)")
    parser.add_argument("--then-unchanged", action="store_true",
                        help="afterwards run the next night over the same input (nothing new) and report it too")
    parser.add_argument("--changed", type=int, default=0, metavar="K",
                        help="afterwards run a night over the same input with K notes' text changed (an incremental "
                        "night: only those K are processed again) and report it too")
    parser.add_argument("--interval", type=float, default=0.5, help="memory polling interval in seconds")


# ------------------------------------------------------------------------------------------ memory polling
@dataclass
class MemoryPeaks:
    driver_mb: float = 0.0  # this Python process
    jvm_mb: float = 0.0  # the largest java process (driver + executor in local mode)
    worker_max_mb: float = 0.0  # the largest single Spark Python worker
    workers_total_mb: float = 0.0  # all Python workers together
    tree_total_mb: float = 0.0  # the whole process tree

    def update(self, sample: "MemoryPeaks") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, max(getattr(self, name), getattr(sample, name)))


def sample_tree(root) -> MemoryPeaks:
    """RSS of the process tree under ``root`` (a psutil.Process), by role."""
    import psutil

    peaks = MemoryPeaks()
    try:
        peaks.driver_mb = root.memory_info().rss / MB
        children = root.children(recursive=True)
    except psutil.Error:
        return peaks
    workers = []
    for child in children:
        try:
            rss = child.memory_info().rss / MB
            name = child.name()
        except psutil.Error:
            continue
        if name.startswith("java"):
            peaks.jvm_mb = max(peaks.jvm_mb, rss)
        elif name.startswith("python"):
            workers.append(rss)
        peaks.tree_total_mb += rss
    peaks.tree_total_mb += peaks.driver_mb
    peaks.worker_max_mb = max(workers, default=0.0)
    peaks.workers_total_mb = sum(workers)
    return peaks


def tree_cpu_seconds(root) -> float:
    """CPU seconds (user + system) used so far by ``root`` and every process under it, with their reaped children
    (Spark's Python workers are forked by its daemon): on a shared machine a stage's CPU seconds say more than its
    wall time."""
    import psutil

    total = 0.0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return total
    for process in processes:
        try:
            t = process.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


class MemoryPoller:
    """A daemon thread that keeps the peaks of the whole run and of the stage running now."""

    def __init__(self, interval: float):
        import psutil

        self.root = psutil.Process(os.getpid())
        self.interval = interval
        self.overall = MemoryPeaks()
        self.stage: MemoryPeaks | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-poller", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        sample = sample_tree(self.root)
        self.overall.update(sample)
        stage = self.stage
        if stage is not None:
            stage.update(sample)

    def __enter__(self) -> "MemoryPoller":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------------------------------- the bench
@dataclass
class StageFigures:
    stage: str
    rows_in: int
    rows_out: int
    rows_quarantined: int
    rows_skipped: int
    seconds: float
    notes_per_s: float | None
    mb_per_s: float | None
    memory: MemoryPeaks = field(default_factory=MemoryPeaks)
    cpu_seconds: float | None = None  # the whole process tree's CPU seconds during the stage


def demo_notes(n: int, seed: int, data: str | None) -> Path:
    from notenlp.demo.generator import write_demo

    folder = Path(data) if data else Path.home() / ".cache" / "notenlp" / "bench-nightly" / f"n{n}-s{seed}"
    csv = folder / "NOTEEVENTS.csv.gz"
    done = folder / ".complete"
    if not done.exists():
        log.info("generating %d demo notes (seed %d) into %s", n, seed, folder)
        t0 = time.perf_counter()
        write_demo(folder, n, seed, workers=max(1, (os.cpu_count() or 1)))
        done.write_text(f"{time.perf_counter() - t0:.1f}\n", encoding="utf-8")
    return csv


CHANGED_SUFFIX = "\nAddendum: patient seen again, plan unchanged."


def changed_notes(csv_path: Path, k: int, out_dir: Path) -> Path:
    """A copy of the NOTEEVENTS input whose first ``k`` notes carry an addendum (new text, same ids), written
    the way the demo generator writes it."""
    import csv
    import gzip

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "NOTEEVENTS.csv.gz"
    with gzip.open(csv_path, "rt", encoding="utf-8", newline="") as source, \
            gzip.open(target, "wt", encoding="utf-8", newline="", compresslevel=5) as sink:
        reader = csv.reader(source)
        writer = csv.writer(sink, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        text = header.index("TEXT")
        for i, row in enumerate(reader):
            if i < k:
                row[text] += CHANGED_SUFFIX
            writer.writerow(row)
    return target


def fix_secret(settings, seed: int) -> None:
    """A surrogate key derived from the seed (benchmark homes only: two runs then agree note for note)."""
    from notenlp.deid.keys import SECRET_FILE

    settings.sealed.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = settings.sealed / SECRET_FILE
    path.write_text(hashlib.sha256(f"notenlp-bench-{seed}".encode()).hexdigest() + "\n", encoding="utf-8")
    os.chmod(path, 0o600)


def text_megabytes(path: Path) -> float:
    """UTF-8 megabytes of note text in a stage partition (read column by column, batch by batch)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    if not path.exists():
        return 0.0
    total = 0
    for batch in ds.dataset(str(path), format="parquet").to_batches(columns=["note_text"]):
        total += pc.sum(pc.binary_length(batch.column(0).cast("binary"))).as_py() or 0
    return total / MB


def note_nlp_checksum(warehouse: Path) -> dict[str, object]:
    """Rows and an order-free hash of NOTE_NLP without its run timestamps and nlp_system (equal rows -> equal
    checksum; nlp_system fingerprints the pipeline config, whose paths differ between checkouts)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows, digest = con.execute(
            "select count(*), coalesce(sum(hash(t)::hugeint), 0)::varchar "
            "from (select * exclude (nlp_date, nlp_datetime, nlp_system) from note_nlp) t").fetchone()
    finally:
        con.close()
    return {"rows": int(rows), "hash_sum": digest}


def _sample_profile(stage: str, night, n: int) -> str | None:
    """cProfile of a text stage's pandas function over ``n`` notes of the night (the workers' work)."""
    import pandas as pd
    import pyarrow.dataset as ds

    from notenlp.stages import annotate, deidentify, normalize, text

    def head(path: Path, rows: int) -> pd.DataFrame:
        return ds.dataset(str(path), format="parquet").head(rows).to_pandas()

    def ingested() -> pd.DataFrame:  # the worker's input without a site offsets table
        return head(night.part("ingest"), n)[deidentify.NOTE_COLUMNS].assign(**{deidentify._SITE_SHIFT: None})

    def deid_config() -> dict:
        from notenlp.deid.keys import load_or_create_secret

        return {"mode": night.settings.deid_mode, "secret_hex": load_or_create_secret(night.settings.sealed)}

    if stage == "deidentify":
        notes, config = ingested(), deid_config()
        run = lambda: list(deidentify._deidentify_batches(iter([notes]), config, night.settings.date_mode,  # noqa: E731
                                                          False))
    elif stage == "text":
        from notenlp.stages.runner import _annotate_config

        notes, config = ingested(), deid_config()
        annotate_config, entry = _annotate_config(night)
        run = lambda: list(text._text_batches(iter([notes]), config, annotate_config, entry,  # noqa: E731
                                              night.settings.date_mode, False))
    elif stage == "annotate":
        notes = head(night.part("deidentify"), n)[["note_id", "person_id", "note_date", "note_text"]]
        config = night.annotate_config()
        config["components"] = [c for c in config["components"] if c["name"] != "normalize"]
        run = lambda: list(annotate._annotate_batches(iter([notes]), config))  # noqa: E731
    elif stage == "normalize":
        notes = head(night.part("deidentify"), n)[["note_id", "note_text"]]
        entities = ds.dataset(str(night.part("normalize")), format="parquet").to_table(
            filter=ds.field("note_id").isin(notes["note_id"].tolist())).to_pandas()
        batch = entities.merge(notes, on="note_id", how="inner")
        entry = next(c for c in night.annotate_config()["components"] if c["name"] == "normalize")
        run = lambda: list(normalize._normalize_batches(iter([batch]), entry))  # noqa: E731
    else:
        return None
    run()  # warm: build the components once, as each worker does
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    return _stats_text(profiler, f"{stage}: the stage's pandas function over {len(notes)} notes of the night")


def _stats_text(profiler: cProfile.Profile, title: str, top: int = 40) -> str:
    buffer = io.StringIO()
    buffer.write(f"# {title}\n")
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return buffer.getvalue()


def run_bench_night(settings, run_date: date, csv: Path, poller: MemoryPoller, notes_hint: int | None = None):
    """One night with per-stage wall time, memory peaks and driver profiles; returns (logs, figures, profiles)."""
    from notenlp.stages.runner import run_night

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    peaks: dict[str, MemoryPeaks] = {}
    profiles: dict[str, cProfile.Profile] = {}

    @contextmanager
    def observe(stage: str):
        peaks[stage] = poller.stage = MemoryPeaks()
        profiler = profiles[stage] = cProfile.Profile()
        t0, cpu0 = time.perf_counter(), tree_cpu_seconds(poller.root)
        profiler.enable()
        try:
            yield
        finally:
            profiler.disable()
            timings[stage] = time.perf_counter() - t0
            cpu[stage] = tree_cpu_seconds(poller.root) - cpu0
            poller.poll()
            poller.stage = None

    t0 = time.perf_counter()
    logs = run_night(settings, run_date, "mimic3", str(csv), observe=observe)
    wall = time.perf_counter() - t0
    return logs, timings, cpu, peaks, profiles, wall


def figures_of(logs, timings, peaks, notes: int, text_mb: float, cpu: dict[str, float] | None = None
               ) -> list[StageFigures]:
    from notenlp.stages.table import PASSES

    out = []
    for record in logs:
        fused = next((p for p in PASSES if record.stage in p.fuses and p.name in timings), None)
        if fused is not None:  # its pass's row below carries the time
            out.append(StageFigures(record.stage, record.rows_in, record.rows_out, record.rows_quarantined,
                                    record.rows_skipped, 0.0, None, None, MemoryPeaks(), None))
            if record.stage != fused.fuses[-1]:
                continue
            members = [f for f in out if f.stage in fused.fuses]
            record = type(record)(fused.name, record.started_at, rows_in=members[0].rows_in,
                                  rows_out=record.rows_out, rows_quarantined=sum(f.rows_quarantined for f in members))
        seconds = timings[record.stage]
        out.append(StageFigures(
            stage=record.stage, rows_in=record.rows_in, rows_out=record.rows_out,
            rows_quarantined=record.rows_quarantined, rows_skipped=record.rows_skipped, seconds=round(seconds, 2),
            notes_per_s=round(notes / seconds, 1) if seconds and notes else None,
            mb_per_s=round(text_mb / seconds, 2) if seconds and text_mb else None, memory=peaks[record.stage],
            cpu_seconds=round(cpu[record.stage], 2) if cpu and record.stage in cpu else None))
    return out


def _home_setup_figures(timings, cpu, peaks) -> StageFigures | None:
    """The home's one-time setup (vocabulary load, dictionary compile; ``runner.HOME_SETUP``) as its own row:
    once per home, not per night, so it is shown apart and left out of the night's end to end."""
    from notenlp.stages.runner import HOME_SETUP

    if HOME_SETUP not in timings:
        return None
    return StageFigures(HOME_SETUP, 0, 0, 0, 0, round(timings[HOME_SETUP], 2), None, None, peaks[HOME_SETUP],
                        round(cpu[HOME_SETUP], 2) if HOME_SETUP in cpu else None)


def format_table(title: str, figures: list[StageFigures], total: StageFigures,
                 setup: StageFigures | None = None) -> str:
    head = (f"{'stage':<11} {'rows in':>9} {'rows out':>9} {'quar.':>6} {'seconds':>8} {'notes/s':>8} {'MB/s':>6} "
            f"{'CPU s':>7} {'driver MB':>9} {'JVM MB':>7} {'worker MB':>9} {'tree MB':>8}")
    lines = [title, head, "-" * len(head)]
    if setup is not None:
        lines[0] += "; the home setup row is once per home and not in end to end"
    for f in [*([setup] if setup else []), *figures, total]:
        m = f.memory
        lines.append(
            f"{f.stage:<11} {f.rows_in:>9} {f.rows_out:>9} {f.rows_quarantined:>6} {f.seconds:>8.1f} "
            f"{(f.notes_per_s or 0):>8.1f} {(f.mb_per_s or 0):>6.2f} {(f.cpu_seconds or 0):>7.1f} {m.driver_mb:>9.0f} {m.jvm_mb:>7.0f} "
            f"{m.worker_max_mb:>9.0f} {m.tree_total_mb:>8.0f}")
    return "\n".join(lines)


def _night_report(label: str, settings, run_date: date, csv: Path, poller: MemoryPoller, out: Path, stem: str):
    from notenlp.stages.night import Night
    from notenlp.stages.table import PASSES

    logs, timings, cpu, peaks, profiles, wall = run_bench_night(settings, run_date, csv, poller)
    night = Night(settings, run_date)
    by_stage = {r.stage: r for r in logs}
    notes = by_stage["ingest"].rows_out
    text_mb = text_megabytes(night.part("ingest"))
    figures = figures_of(logs, timings, peaks, notes, text_mb, cpu)
    passes = {p.name for p in PASSES}
    stage_seconds = sum(f.seconds for f in figures)
    overall = MemoryPeaks()
    for f in figures:
        overall.update(f.memory)
    total = StageFigures("end to end", by_stage["ingest"].rows_in, by_stage["load"].rows_out,
                         sum(f.rows_quarantined for f in figures if f.stage not in passes), 0, round(stage_seconds, 2),
                         round(notes / stage_seconds, 1) if notes else None,
                         round(text_mb / stage_seconds, 2) if text_mb else None, overall,
                         round(sum(f.cpu_seconds or 0 for f in figures), 2))
    setup = _home_setup_figures(timings, cpu, peaks)
    slowest = max(figures, key=lambda f: f.seconds)
    profile_path = out / f"{stem}.{label}.profile-{slowest.stage}.txt"
    parts = [_stats_text(profiles[slowest.stage], f"{slowest.stage}: driver process during the stage "
                                                  f"({slowest.seconds:.1f} s)")]
    try:
        sample = _sample_profile(slowest.stage, night, PROFILE_SAMPLE_NOTES)
    except Exception as exc:  # a profile is a by-product: never fail the bench for it
        log.warning("no sample profile of %s (%s)", slowest.stage, type(exc).__name__)
        sample = None
    if sample:
        parts.insert(0, sample)
    profile_path.write_text("\n\n".join(parts), encoding="utf-8")
    return {
        "label": label, "run_date": run_date.isoformat(), "notes_processed": notes, "text_mb": round(text_mb, 2),
        "stage_seconds": round(stage_seconds, 2), "wall_seconds": round(wall, 2),
        "notes_per_s": total.notes_per_s, "stages": [asdict(f) for f in figures], "end_to_end": asdict(total),
        "slowest_stage": slowest.stage, "profile": str(profile_path),
        "note_nlp": note_nlp_checksum(settings.warehouse),
        "home_setup": asdict(setup) if setup else None,
    }, format_table(f"{label} night {run_date} ({notes} notes processed, {text_mb:.1f} MB of text; wall "
                    f"{wall:.1f} s incl. Spark start and home setup)", figures, total, setup)


def run(args: argparse.Namespace) -> int:
    from notenlp.config import Settings

    csv = demo_notes(args.notes, args.seed, args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"nightly-n{args.notes}"
    temporary = args.home is None
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix=f"notenlp-bench-n{args.notes}-"))
    if not temporary and home.exists() and any(home.iterdir()):
        raise SystemExit(f"--home {home} is not empty: the bench runs a night into a fresh home")
    settings = Settings.from_env(home=home, spark_master=args.master, use_registered_models=False)
    if args.fixed_secret:
        fix_secret(settings, args.seed)
    result: dict[str, object] = {"notes_generated": args.notes, "seed": args.seed, "input": str(csv),
                                 "home": str(home), "cpus": os.cpu_count(), "spark_master": settings.spark_master}
    tables = []
    try:
        with MemoryPoller(args.interval) as poller:
            first, table = _night_report("first", settings, args.run_date, csv, poller, out, stem)
            result["first"] = first
            tables.append(table)
            if args.then_unchanged:
                again, table = _night_report("unchanged", settings, args.run_date + timedelta(days=1), csv, poller,
                                             out, stem)
                result["unchanged"] = again
                tables.append(table)
            if args.changed:
                changed_csv = changed_notes(csv, args.changed, home / "changed-input")
                again, table = _night_report(f"changed-{args.changed}", settings, args.run_date + timedelta(days=2),
                                             changed_csv, poller, out, stem)
                result["changed"] = again
                tables.append(table)
            result["peak_memory"] = asdict(poller.overall)
    finally:
        if temporary and not args.keep_home:
            shutil.rmtree(home, ignore_errors=True)
    json_path = out / f"{stem}.json"
    json_path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print()
    for table in tables:
        print(table)
        print()
    print(f"NOTE_NLP: {first['note_nlp']}")
    print(f"json:    {json_path.resolve()}")
    print(f"profile: {Path(first['profile']).resolve()}")
    return 0
