"""``notenlp bench deid``: notes/s of de-identification beside Presidio's pattern recognizers, same notes, same run.

Notes come from ``--input`` (JSONL contract), else the demo generator when it is installed, else
built-in synthetic nursing notes; either way their lengths follow a MIMIC-III-like mix (~2,000
characters on average). Both systems run with the same number of worker processes.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import time
from multiprocessing import get_context

log = logging.getLogger(__name__)

_SENTENCES = [
    "Pt is a {age} yo {sex} admitted {date} from {place} with {problem}.",
    "Seen by Dr. {last} this am; plan discussed with wife {first} ({phone}).",
    "Neuro: A&Ox3, MAE, follows commands. PERRL.",
    "CV: NSR 80s-90s, no ectopy. BP 110-130/60s. Pulses palpable.",
    "Resp: LS clear bilat, diminished at bases. O2 sat 95-98% on 2L NC.",
    "GI: abd soft, NT/ND, +BS. Tolerating clear liquids. No BM this shift.",
    "GU: foley draining clear yellow urine, 40-60cc/hr.",
    "Skin: intact, no breakdown noted. Turned q2h.",
    "Pain: c/o 4/10 incisional pain, medicated with morphine 2mg IV with good effect.",
    "Social: lives in {city} with daughter {first}; son {first2} called at {time} for update.",
    "MRN {mrn}. Follow up with {first} {last}, RN at {phone}.",
    "Plan: cont current mgmt, wean O2 as tolerated, PT/OT consult, d/c planning to rehab on {date}.",
    "Labs: K 3.8, Mg 1.9, Hct 28.4 (down from 30.1 on {date}); repleted per protocol.",
    "Hx of Parkinson's disease, Bell's palsy and CHF; Foley placed {date}.",
]
_FIRST = ["Mary", "John", "Linda", "Robert", "Patricia", "James", "Susan", "Michael"]
_LAST = ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Moore"]


def synthetic_notes(n: int, seed: int = 0) -> list[dict]:
    """Nursing-style notes with planted PHI; lengths log-normal around 2,000 characters."""
    rng = random.Random(seed)
    notes = []
    for i in range(n):
        target = int(min(12_000, max(200, rng.lognormvariate(7.35, 0.6))))
        parts = []
        while sum(len(p) for p in parts) < target:
            parts.append(rng.choice(_SENTENCES).format(
                age=rng.randint(40, 99), sex=rng.choice("MF"), date=f"{rng.randint(1, 12)}/{rng.randint(1, 28)}",
                place=rng.choice(["Mercy Hospital", "home", "St. Elizabeth's Medical Center"]),
                problem=rng.choice(["pneumonia", "CHF exacerbation", "GI bleed"]), last=rng.choice(_LAST),
                first=rng.choice(_FIRST), first2=rng.choice(_FIRST), city=rng.choice(["Boston", "Quincy", "Lowell"]),
                phone=f"617-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}", time=f"{rng.randint(10, 23)}00",
                mrn=rng.randint(1_000_000, 9_999_999)))
        notes.append({"note_id": i, "person_id": i % 50, "note_date": "2101-03-10", "text": " ".join(parts)})
    return notes


def load_notes(args: argparse.Namespace) -> tuple[list[dict], str]:
    if args.input:
        from notenlp.jsonl import read_docs

        notes = []
        for doc in read_docs(args.input):
            notes.append({"note_id": doc.note_id, "person_id": doc.person_id, "note_date": doc.note_date,
                          "text": doc.text})
            if len(notes) >= args.notes:
                break
        return notes, str(args.input)
    try:
        from notenlp.demo.generator import iter_demo_notes
    except ImportError:
        return synthetic_notes(args.notes, args.seed), "synthetic nursing notes"
    return ([{k: n[k] for k in ("note_id", "person_id", "note_date", "text")}
             for n in iter_demo_notes(args.notes, seed=args.seed)], "demo generator")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", default=None, help="JSONL notes to time (default: generated notes)")
    parser.add_argument("--notes", type=int, default=2000, help="number of notes (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes for each system (default 2)")
    parser.add_argument("--no-baseline", action="store_true", help="skip Presidio")
    parser.add_argument("--no-mlflow", action="store_true", help="print only; do not log to MLflow")


_WORKER = None


def _init_worker(system: str) -> None:
    global _WORKER
    if system == "notenlp":
        from notenlp.deid.deidentifier import Deidentifier

        _WORKER = Deidentifier(mode="surrogate", secret_hex="00" * 32)
    else:
        from notenlp.deid.baseline import PresidioPatternBaseline

        _WORKER = PresidioPatternBaseline()


def _process(batch: list[dict]) -> tuple[int, float]:
    """PHI spans found in the batch and the worker's CPU seconds spent on it."""
    from notenlp.doc import Doc

    started = time.process_time()
    spans = 0
    for note in batch:
        if hasattr(_WORKER, "deidentify"):
            spans += len(_WORKER.deidentify(Doc(note["text"], note_id=note["note_id"], person_id=note["person_id"],
                                                note_date=note["note_date"])).phi)
        else:
            spans += len(_WORKER.detect(note["text"]))
    return spans, time.process_time() - started


def time_system(system: str, notes: list[dict], workers: int) -> tuple[float, float, int]:
    """Wall seconds to process every note (after each worker has loaded its resources), the workers' CPU
    seconds (unlike wall time, not inflated when other processes share the cores) and PHI spans found."""
    batches = [notes[i:i + 50] for i in range(0, len(notes), 50)]
    with get_context("fork").Pool(workers, initializer=_init_worker, initargs=(system,)) as pool:
        pool.map(_process, [notes[:2]] * workers)  # warm-up: resources loaded in every worker
        started = time.perf_counter()
        results = pool.map(_process, batches, chunksize=1)
        return time.perf_counter() - started, sum(r[1] for r in results), sum(r[0] for r in results)


def run(args: argparse.Namespace) -> int:
    from notenlp.metrics import format_table

    notes, source = load_notes(args)
    chars = sum(len(n["text"]) for n in notes)
    log.info("timing %d notes (%s), %d workers", len(notes), source, args.workers)
    systems = ["notenlp"] + ([] if args.no_baseline else ["presidio-patterns"])
    rows, metrics = [], {}
    for system in systems:
        seconds, cpu_seconds, spans = time_system(system, notes, args.workers)
        rate = len(notes) / seconds
        cpu_rate = len(notes) / cpu_seconds
        rows.append({"system": system, "notes": len(notes), "seconds": seconds, "notes_per_s": rate,
                     "chars_per_s": chars / seconds, "cpu_seconds": cpu_seconds, "notes_per_cpu_s": cpu_rate,
                     "phi_spans": spans})
        metrics[f"{system}.notes_per_s"] = rate
        metrics[f"{system}.notes_per_cpu_s"] = cpu_rate
        metrics[f"{system}.phi_spans"] = spans
    print(f"de-identification throughput on {len(notes)} notes from {source} "
          f"(mean {chars / max(1, len(notes)):.0f} chars), {args.workers} workers, {os.cpu_count()} CPUs")
    print(format_table(rows, ["system", "notes", "seconds", "notes_per_s", "chars_per_s", "cpu_seconds",
                              "notes_per_cpu_s", "phi_spans"]))
    print("notes_per_cpu_s: notes per CPU-second of one worker; with N idle cores the rate approaches N times it")
    if not args.no_mlflow:
        from notenlp.tracking import log_run

        log_run("notenlp-bench-deid", "bench-deid", metrics=metrics,
                params={"source": source, "notes": len(notes), "workers": args.workers,
                        "mean_chars": round(chars / max(1, len(notes)))}, tables={"throughput": rows})
    return 0
