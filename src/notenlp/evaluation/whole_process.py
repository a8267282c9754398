"""``notenlp bench startup``: whole-process runs, start-up included, of ``notenlp annotate`` / ``notenlp deid``
beside their baselines as separate processes on the same JSONL file.

Each system is a fresh process that reads the JSONL file and writes one JSONL line per note, so the time
counts everything a user waits for: interpreter start, imports, loading rules/models/dictionaries, the notes,
the output. The in-process benches (``notenlp bench annotate`` / ``bench deid``) leave start-up out.
- ``notenlp annotate --input F --output O`` beside medspaCy 1.3.1 (``python -m notenlp.evaluation.whole_process
  medspacy``): blank English, PyRuSH sentencizer, target matcher, sectionizer and ConText, as ``bench annotate``
  builds it, with the distinct entity texts notenlp found in a first, untimed run as target terms;
- ``notenlp deid --input F --output O`` (surrogate mode) beside Presidio's pattern recognizers (``... presidio``),
  as ``bench deid`` builds them; Presidio only finds the spans, notenlp also writes the surrogate text.
Each row is run ``--repeat`` times, the systems interleaved so a load change on a shared machine hits both;
the table gives the fastest wall time and the CPU seconds (user + system) of that process, and a 1-note run of
each system shows its start-up alone.

Default notes: the first 400 BC5CDR development abstracts (title + abstract, ~1,300 characters), real text
nobody on this project wrote (``--input`` takes any JSONL file of the contract instead).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

MODULE = "notenlp.evaluation.whole_process"  # this module, also when it runs as ``python -m``
SECRET_HEX = "00" * 31 + "aa"  # a fixed surrogate key: timing only, nothing real is de-identified


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", default=None,
                        help="JSONL notes (JSONL contract); default: the first --notes BC5CDR development abstracts")
    parser.add_argument("--notes", type=int, default=400, help="number of notes (default 400)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each row; the fastest is reported (default 3)")
    parser.add_argument("--systems", default="annotate,deid", help="comma-separated: annotate, deid (default both)")
    parser.add_argument("--no-mlflow", action="store_true", help="print only; do not log to MLflow")


def write_notes(path: Path, source: str | None, n: int) -> str:
    """The notes to time as a JSONL file; returns where they came from."""
    if source:
        with open(source, encoding="utf-8") as handle, open(path, "w", encoding="utf-8") as out:
            lines = [line for line in handle if line.strip()][:n]
            out.writelines(line if line.endswith("\n") else line + "\n" for line in lines)
        return source
    from notenlp.corpora import MISSING_MESSAGE, corpus_path
    from notenlp.ner.corpora import BC5CDR_LABELS, CORPUS_FILES, read_pubtator

    gold = corpus_path(*CORPUS_FILES["bc5cdr"][1].split("/"))
    if gold is None:
        raise SystemExit(f"no --input given and {MISSING_MESSAGE}")
    with open(path, "w", encoding="utf-8") as out:
        for doc in read_pubtator(gold, BC5CDR_LABELS)[:n]:
            out.write(json.dumps({"note_id": doc.doc_id, "text": doc.text}) + "\n")
    return f"BC5CDR development abstracts ({gold.name})"


def timed_run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, of the process and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["(no message)"]
        raise SystemExit(f"{' '.join(command[:4])} ... failed with exit code {completed.returncode}: {tail[0]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def entity_terms(annotations: Path) -> list[str]:
    """Distinct entity texts notenlp found (medication attributes left out): medspaCy's target-matcher terms."""
    from notenlp.attributes import MEDICATION_ATTRIBUTES

    terms = set()
    with open(annotations, encoding="utf-8") as handle:
        for line in handle:
            for entity in json.loads(line)["entities"]:
                if entity["label"] not in MEDICATION_ATTRIBUTES:
                    terms.add(" ".join(entity["text"].lower().split()))
    return sorted(terms)


def commands(system: str, notes: Path, work: Path) -> dict[str, list[str]]:
    """Command line of notenlp and of its baseline for ``system``, reading ``notes``."""
    python = sys.executable
    notenlp = [python, "-m", "notenlp.cli"]
    out = str(work / "out.jsonl")
    if system == "annotate":
        return {"notenlp annotate": notenlp + ["annotate", "--input", str(notes), "--output", out],
                "medspacy": [python, "-m", MODULE, "medspacy", "--input", str(notes), "--output", out,
                             "--terms", str(work / "terms.json")]}
    secret = work / "secret.hex"
    return {"notenlp deid": notenlp + ["deid", "--input", str(notes), "--output", out, "--secret-file", str(secret),
                                       "--mode", "surrogate"],
            "presidio-patterns": [python, "-m", MODULE, "presidio", "--input", str(notes), "--output", out]}


def run(args: argparse.Namespace) -> int:
    from notenlp.metrics import format_table

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - {"annotate", "deid"}
    if unknown:
        log.error("unknown system(s): %s (choose annotate, deid)", ", ".join(sorted(unknown)))
        return 2
    if sys.dont_write_bytecode:
        log.warning("PYTHONDONTWRITEBYTECODE is set: modules without a cached .pyc are compiled on every start")
    rows, metrics = [], {}
    with tempfile.TemporaryDirectory(prefix="notenlp-startup-") as tmp:
        work = Path(tmp)
        notes = work / "notes.jsonl"
        source = write_notes(notes, args.input, args.notes)
        n = sum(1 for line in notes.read_text(encoding="utf-8").splitlines() if line.strip())
        if not n:
            log.error("no notes to time")
            return 2
        one = work / "one.jsonl"
        one.write_text(notes.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
        (work / "secret.hex").write_text(SECRET_HEX, encoding="utf-8")
        chars = sum(len(json.loads(line)["text"]) for line in notes.read_text(encoding="utf-8").splitlines())
        for system in systems:
            if system == "annotate":  # untimed: medspaCy's terms, and every .pyc written before the clock
                timed_run(commands("annotate", notes, work)["notenlp annotate"])
                (work / "terms.json").write_text(json.dumps(entity_terms(work / "out.jsonl")), encoding="utf-8")
            for count, path in ((1, one), (n, notes)):
                lines = commands(system, path, work)
                timed_run(next(iter(lines.values())))  # warm-up: file cache, .pyc files
                runs: dict[str, list[tuple[float, float]]] = {name: [] for name in lines}
                for _ in range(max(1, args.repeat)):
                    for name, command in lines.items():
                        runs[name].append(timed_run(command))
                for name, results in runs.items():
                    wall, cpu = min(results)
                    rows.append({"system": name, "notes": count, "seconds": wall,
                                 "median_seconds": statistics.median(w for w, _ in results), "cpu_seconds": cpu,
                                 "notes_per_s": count / wall})
            ours, theirs = rows[-2], rows[-1]
            metrics[f"{system}.notes_per_s"] = ours["notes_per_s"]
            metrics[f"{system}.baseline_notes_per_s"] = theirs["notes_per_s"]
            metrics[f"{system}.speedup"] = theirs["seconds"] / ours["seconds"]
            metrics[f"{system}.median_speedup"] = theirs["median_seconds"] / ours["median_seconds"]
            metrics[f"{system}.cpu_speedup"] = theirs["cpu_seconds"] / max(ours["cpu_seconds"], 1e-9)
            metrics[f"{system}.startup_s"] = rows[-4]["seconds"]
            metrics[f"{system}.baseline_startup_s"] = rows[-3]["seconds"]
    print(f"whole-process runs, start-up included: {n} notes from {source} (mean {chars / n:.0f} chars), "
          f"fastest of {max(1, args.repeat)}; {os.cpu_count()} CPUs here, other work on them slows every row")
    print(format_table(rows, ["system", "notes", "seconds", "median_seconds", "cpu_seconds", "notes_per_s"]))
    for system in systems:
        print(f"{system}: notenlp {metrics[f'{system}.speedup']:.2f}x its baseline on {n} notes (fastest runs; "
              f"{metrics[f'{system}.median_speedup']:.2f}x median, {metrics[f'{system}.cpu_speedup']:.2f}x in CPU "
              f"seconds, the figure least moved by other load); start-up (1 note) "
              f"{metrics[f'{system}.startup_s']:.2f}s vs {metrics[f'{system}.baseline_startup_s']:.2f}s")
    if not args.no_mlflow:
        from notenlp.tracking import log_run

        log_run("notenlp-bench-startup", "bench-startup", metrics=metrics, tables={"whole_process": rows},
                params={"source": source, "notes": n, "repeat": args.repeat, "systems": ",".join(systems)})
    return 0


# The baselines as processes of their own: read the JSONL notes, write one JSONL line per note.

def run_medspacy(input_path: str, output_path: str, terms_path: str) -> None:
    from notenlp.evaluation.annotate_bench import build_medspacy_full
    from notenlp.jsonl import write_records

    terms = set(json.loads(Path(terms_path).read_text(encoding="utf-8")))
    nlp = build_medspacy_full(terms)
    with open(input_path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]

    def annotations():
        for record, doc in zip(records, nlp.pipe(r["text"] for r in records)):
            yield {"note_id": record["note_id"], "entities": [
                {"start": e.start_char, "end": e.end_char, "text": e.text, "label": e.label_,
                 "negated": e._.is_negated, "hypothetical": e._.is_hypothetical, "historical": e._.is_historical,
                 "family": e._.is_family, "section": e._.section_category} for e in doc.ents]}

    write_records(output_path, annotations())


def run_presidio(input_path: str, output_path: str) -> None:
    from notenlp.deid.baseline import PresidioPatternBaseline
    from notenlp.jsonl import read_docs, write_records

    baseline = PresidioPatternBaseline()
    write_records(output_path, ({"note_id": doc.note_id, "phi": [
        {"start": s.start, "end": s.end, "type": s.type} for s in baseline.detect(doc.text)]}
        for doc in read_docs(input_path)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description="a baseline as its own process")
    parser.add_argument("baseline", choices=("medspacy", "presidio"))
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--terms", help="JSON list of target terms (medspacy)")
    args = parser.parse_args(argv)
    if args.baseline == "medspacy":
        run_medspacy(args.input, args.output, args.terms)
    else:
        run_presidio(args.input, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
