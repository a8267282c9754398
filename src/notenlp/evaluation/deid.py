"""``notenlp evaluate deid``: PHI recall, precision and F2 per type, token and entity level, beside Presidio.

Sets (``--sets``, all but ``nursing-aside3`` by default; ``--format`` with ``--gold`` scores one file as before):
- ``demo``: the demo gold (``--gold`` gold.jsonl from ``notenlp demo-data``, else the first
  ``--demo-notes`` notes of seed 0 generated in memory), every PHI type of the contract;
- ``presidio``: Presidio's synthetic set (synth_dataset_v2.json), types mapped onto ours; by default
  only its held-out fifth (index % 5 == 0), since the token model trains on the rest;
- ``nursing-dev`` / ``nursing-aside`` / ``nursing-aside2``: the realistic ICU nursing-note benchmark
  (``notenlp.evaluation.nursing_notes``); the aside parts are kept aside from tuning: read their totals
  only, and ``nursing-aside2`` (surrogates the de-identifier does not ship) only as a final measurement.
  These also get recall per planted subtype (patient / family / clinician names, two-digit years,
  hospital abbreviations, area codes, ...), per name case, and for aside2 for names no lexicon holds;
- ``nursing-aside3``: a third kept-aside part written apart from the others
  (``notenlp.evaluation.nursing_aside3``); run only when named in ``--sets``, totals per type only;
- ``phi-free``: clinical-word damage, the share of word/number tokens replaced in real PHI-free
  sentences (NegEx, ADE, BC5CDR; dev and aside halves); every replaced token there is a false alarm;
- ``ner-change``: the PHI-free dev documents annotated by the ``annotate`` pipeline before and after
  surrogate de-identification; entities (offsets mapped back, label) lost or added.

Token level: every word/number token gets the type of the PHI span covering it; a token counts as
found when the prediction covers it with the same type ("PHI" rows ignore the type). Entity level:
strict (same offsets and type) and lenient (overlap, same type) from ``notenlp.evaluation.metrics``.
Clock times are not identifiers under HIPAA Safe Harbor and the de-identifier leaves them by default;
gold DATE.TIME spans are therefore left out unless ``--detect-times`` is given (the count is printed).
Sets whose corpora are missing are skipped with a message. ``--json PATH`` writes every figure as JSON
(no note text) for the model registry; MLflow gets the same metrics unless ``--no-mlflow``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from notenlp.metrics import Score, format_table, span_scores

log = logging.getLogger(__name__)

PRESIDIO_TYPES = {
    "PERSON": "NAME", "STREET_ADDRESS": "LOCATION", "GPE": "LOCATION", "ORGANIZATION": "LOCATION",
    "ZIP_CODE": "LOCATION", "DATE_TIME": "DATE", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL",
    "DOMAIN_NAME": "URL", "IP_ADDRESS": "IP", "US_SSN": "ID", "CREDIT_CARD": "ID", "IBAN_CODE": "ID",
    "US_DRIVER_LICENSE": "ID", "AGE": "AGE",
}  # TITLE and NRP (nationality, religion, politics) are not PHI under HIPAA and are left out.


SETS = ("demo", "presidio", "nursing-dev", "nursing-aside", "nursing-aside2", "nursing-aside3", "phi-free",
        "ner-change")
SCORED_SETS = ("demo", "presidio", "nursing-dev", "nursing-aside", "nursing-aside2", "nursing-aside3")
# kept aside from tuning: totals only, no error listings (nursing-aside2: read only as a final measurement;
# nursing-aside3, notenlp.evaluation.nursing_aside3: its totals read by the lead once at the end of a session)
ASIDE_SETS = ("nursing-aside", "nursing-aside2", "nursing-aside3", "phi-free-aside")
# run only when named (--sets nursing-aside3), so that tuning runs never see it; totals per type only,
# no per-subtype table
TOTALS_ONLY_SETS = ("nursing-aside3",)
DEFAULT_SETS = tuple(s for s in SETS if s not in TOTALS_ONLY_SETS)
DEMO_EVAL_SEED = 0  # the token model trains on demo notes of seed 1
# Surrogates for the NER-change measurement only: a fixed key so that reruns compare the same text.
_EVALUATION_SECRET = "5e" * 32


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS),
                        help=f"comma-separated sets to run (default: {','.join(DEFAULT_SETS)}; "
                             f"{','.join(TOTALS_ONLY_SETS)} only when named)")
    parser.add_argument("--gold", type=Path, default=None,
                        help="gold file for --format (presidio default: the shared corpora's synth_dataset_v2.json)")
    parser.add_argument("--format", choices=("demo", "presidio"), default=None,
                        help="score this one gold format only (same as --sets demo|presidio, with --gold)")
    parser.add_argument("--split", choices=("heldout", "all"), default="heldout",
                        help="presidio only: score the held-out fifth the model never saw (default) or all")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N notes of each set (0 = all)")
    parser.add_argument("--demo-notes", type=int, default=200, help="demo notes generated when no --gold (default 200)")
    parser.add_argument("--nursing-notes", type=int, default=400, help="nursing-dev notes (default 400)")
    parser.add_argument("--aside-notes", type=int, default=200, help="nursing-aside, -aside2 and -aside3 notes (default 200 each)")
    parser.add_argument("--phi-free-docs", type=int, default=120,
                        help="PHI-free documents per part for the damage rate (default 120)")
    parser.add_argument("--ner-docs", type=int, default=60,
                        help="PHI-free dev documents annotated before and after de-identification (default 60)")
    parser.add_argument("--errors", type=int, default=0, metavar="N",
                        help="print notenlp's N most frequent false-alarm and missed words per set (not the aside part)")
    parser.add_argument("--detect-times", action="store_true", help="treat clock times as PHI (and score them)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the Presidio baseline")
    parser.add_argument("--no-mlflow", action="store_true", help="print only; do not log to MLflow")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write every figure as JSON to PATH ('-' = stdout)")


def load_gold(path: Path, fmt: str, split: str = "heldout") -> Iterator[dict]:
    """Gold notes as ``{"note_id", "person_id", "note_date", "text", "phi": [(start, end, type, subtype)]}``."""
    if fmt == "presidio":
        for index, item in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            if split == "heldout" and index % 5:
                continue
            phi = [(s["start_position"], s["end_position"], PRESIDIO_TYPES[s["entity_type"]], s["entity_type"])
                   for s in item["spans"] if s["entity_type"] in PRESIDIO_TYPES]
            yield {"note_id": index, "person_id": None, "note_date": None, "text": item["full_text"], "phi": phi}
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield gold_record(json.loads(line))


def gold_record(note: dict) -> dict:
    """A demo-shaped note (``phi`` as dicts) in the scoring shape (``phi`` as tuples, dicts kept in ``phi_detail``)."""
    return {"note_id": note["note_id"], "person_id": note.get("person_id"), "note_date": note.get("note_date"),
            "text": note["text"], "phi": [(p["start"], p["end"], p["type"], p.get("subtype", "")) for p in note["phi"]],
            "phi_detail": note["phi"]}


def token_labels(text: str, spans) -> list[tuple[int, int, str]]:
    """(start, end, type or '') of each word/number token."""
    from notenlp.deid.features import TOKEN_RE

    ordered = sorted((s[0], s[1], s[2]) for s in spans)
    out, k = [], 0
    for m in TOKEN_RE.finditer(text):
        if not m.group()[0].isalnum():
            continue
        while k < len(ordered) and ordered[k][1] <= m.start():
            k += 1
        label = ""
        for start, end, phi_type in ordered[k:k + 4]:
            if start < m.end() and m.start() < end:
                label = phi_type
                break
        out.append((m.start(), m.end(), label))
    return out


def score_system(notes: list[dict], detect) -> tuple[dict[str, Score], dict[str, Score], dict[str, Score], float]:
    """Token, strict-entity and lenient-entity scores per type, and seconds spent detecting."""
    tokens: dict[str, Score] = defaultdict(Score)
    gold_spans, pred_spans, elapsed = [], [], 0.0
    for note in notes:
        started = time.perf_counter()
        predicted = detect(note)
        elapsed += time.perf_counter() - started
        pred = [(p.start, p.end, p.type) for p in predicted]
        gold = [(g[0], g[1], g[2]) for g in note["phi"]]
        gold_spans += [(note["note_id"], *g) for g in gold]
        pred_spans += [(note["note_id"], *p) for p in pred]
        for (_, _, g), (_, _, p) in zip(token_labels(note["text"], gold), token_labels(note["text"], pred)):
            if g and p:
                tokens["PHI"].tp += 1
            elif p:
                tokens["PHI"].fp += 1
            elif g:
                tokens["PHI"].fn += 1
            if g and g == p:
                tokens[g].tp += 1
            else:
                if p:
                    tokens[p].fp += 1
                if g:
                    tokens[g].fn += 1
    strict = span_scores(gold_spans, pred_spans)
    lenient = span_scores(gold_spans, pred_spans, lenient=True)
    untyped_gold = [(*g[:3], "PHI") for g in gold_spans]
    untyped_pred = [(*p[:3], "PHI") for p in pred_spans]
    strict["PHI"] = span_scores(untyped_gold, untyped_pred)["ALL"]
    lenient["PHI"] = span_scores(untyped_gold, untyped_pred, lenient=True)["ALL"]
    return dict(tokens), strict, lenient, elapsed




def recall_by_planted(notes: list[dict], predicted: list[list]) -> dict[str, Score]:
    """Token recall (typed) per planted subtype, and for names per case and for English-word names.

    Needs ``phi_detail`` (the benchmark's gold dicts); precision has no meaning per planted subtype.
    """
    from bisect import bisect_left

    scores: dict[str, Score] = defaultdict(Score)
    for note, prediction in zip(notes, predicted):
        tokens = token_labels(note["text"], [(p.start, p.end, p.type) for p in prediction])
        starts = [t[0] for t in tokens]
        for phi in note.get("phi_detail", ()):
            groups = [phi.get("subtype") or phi["type"]]
            if phi["type"] == "NAME":
                groups.append(f"NAME case={phi.get('case', '')}")
                if phi.get("english_word"):
                    groups.append("NAME english-word")
                if phi.get("unlisted"):
                    groups.append("NAME unlisted")
            i = max(0, bisect_left(starts, phi["start"]) - 1)
            while i < len(tokens) and tokens[i][0] < phi["end"]:
                if tokens[i][1] > phi["start"]:
                    for group in groups:
                        if tokens[i][2] == phi["type"]:
                            scores[group].tp += 1
                        else:
                            scores[group].fn += 1
                i += 1
    return dict(scores)


def metric_key(group: str) -> str:
    """A planted group ("NAME case=lower") as part of an MLflow metric name, which allows no '='."""
    return group.replace(" ", "_").replace("=", "_")


def damage(docs: list[dict], detect) -> dict:
    """Word/number tokens of PHI-free text and how many a detector would replace (all false alarms)."""
    tokens = replaced = 0
    by_type: Counter[str] = Counter()
    words: Counter[str] = Counter()
    for doc in docs:
        for start, end, label in token_labels(doc["text"], [(p.start, p.end, p.type) for p in detect(doc)]):
            tokens += 1
            if label:
                replaced += 1
                by_type[label] += 1
                words[doc["text"][start:end].lower()] += 1
    return {"docs": len(docs), "tokens": tokens, "replaced": replaced,
            "replaced_share": replaced / tokens if tokens else 0.0, "by_type": dict(by_type), "words": words}


def original_offset(position: int, edits: list[tuple[int, int, int, int]], *, end: bool) -> int:
    """Offset in the input text of an offset into the de-identified text.

    ``edits``: ``(new_start, new_end, old_start, old_end)`` of each replacement, in order. An offset inside
    a replacement maps to the replaced span's start (``end=False``) or end (``end=True``).
    """
    shift = 0
    for new_start, new_end, old_start, old_end in edits:
        if position < new_start or (end and position == new_start):
            break
        if position < new_end or (end and position == new_end):
            return old_end if end else old_start
        shift += (new_end - new_start) - (old_end - old_start)
    return position - shift


def replacement_edits(result) -> list[tuple[int, int, int, int]]:
    """``(new_start, new_end, old_start, old_end)`` of each replacement of a ``DeidResult``."""
    edits, shift = [], 0
    for span, replacement in zip(result.phi, result.replacements):
        new_start = span.start + shift
        edits.append((new_start, new_start + len(replacement), span.start, span.end))
        shift += len(replacement) - (span.end - span.start)
    return edits


def ner_change(docs: list[dict], deidentifier, pipeline) -> dict:
    """Entities (span, label) of the annotate pipeline before and after de-identification, in input offsets.

    A document the de-identifier leaves unchanged is not annotated twice: the pipeline is deterministic.
    """
    from notenlp.doc import Doc

    before_total = after_total = lost = added = changed_docs = 0
    labels_lost: Counter[str] = Counter()
    for doc in docs:
        before = {(e.start, e.end, e.label) for e in pipeline(Doc(doc["text"], note_id=doc["note_id"])).entities}
        result = deidentifier.deidentify(Doc(doc["text"], note_id=doc["note_id"]))
        after = before
        if result.text != doc["text"]:
            changed_docs += 1
            edits = replacement_edits(result)
            annotated = pipeline(Doc(result.text, note_id=doc["note_id"])).entities
            after = {(original_offset(e.start, edits, end=False), original_offset(e.end, edits, end=True), e.label)
                     for e in annotated}
        before_total += len(before)
        after_total += len(after)
        lost += len(before - after)
        added += len(after - before)
        labels_lost.update(label for _, _, label in before - after)
    return {"docs": len(docs), "docs_changed": changed_docs, "entities_before": before_total,
            "entities_after": after_total, "lost": lost, "added": added,
            "changed_share": (lost + added) / before_total if before_total else 0.0, "lost_by_label": dict(labels_lost)}


def chosen_sets(args: argparse.Namespace) -> list[str]:
    if args.format:
        return [args.format]
    chosen = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SETS]
    if unknown or not chosen:
        raise SystemExit(f"--sets: unknown {','.join(unknown) or '(none given)'}; choose from {','.join(SETS)}")
    return chosen


def load_set(name: str, args: argparse.Namespace) -> tuple[list[dict], str] | None:
    """Gold notes of one scored set and where they come from; None (with a message) when its corpus is missing."""
    from notenlp.corpora import MISSING_MESSAGE, corpus_path

    if name == "demo":
        if args.gold is not None:
            notes, source = list(load_gold(args.gold, "demo")), args.gold.name
        else:
            from notenlp.demo.generator import iter_demo_notes

            notes = [gold_record(n) for n in iter_demo_notes(args.demo_notes, DEMO_EVAL_SEED)]
            source = f"generated in memory, seed {DEMO_EVAL_SEED}"
    elif name == "presidio":
        path = args.gold if args.format == "presidio" and args.gold is not None else corpus_path(
            "presidio-synth", "synth_dataset_v2.json")
        if path is None:
            print(f"presidio: skipped, {MISSING_MESSAGE}")
            return None
        notes, source = list(load_gold(path, "presidio", args.split)), f"{path.name}, split={args.split}"
    elif name == "nursing-aside3":  # written apart from the other parts (issue #21)
        from notenlp.evaluation import nursing_aside3

        background = nursing_aside3.background_pool()
        count = min(args.aside_notes, args.limit) if args.limit else args.aside_notes
        notes = [gold_record(n) for n in nursing_aside3.generate_notes(count, background=background)]
        source = ("notenlp.evaluation.nursing_aside3, NOT used for tuning"
                  + ("" if any(background.values()) else f"; no real background sentences ({MISSING_MESSAGE})"))
    else:
        from notenlp.evaluation.nursing_notes import background_sentences, generate_notes

        part = name.removeprefix("nursing-")
        count = args.nursing_notes if part == "dev" else args.aside_notes  # aside and aside2
        if args.limit:
            count = min(count, args.limit)
        background = background_sentences(part)
        notes = [gold_record(n) for n in generate_notes(part, count, background=background)]
        source = ("notenlp.evaluation.nursing_notes" + (", NOT used for tuning" if part != "dev" else "")
                  + ("" if any(background.values()) else f"; no real background sentences ({MISSING_MESSAGE})"))
    if args.limit:
        notes = notes[:args.limit]
    return notes, source


def token_errors(notes: list[dict], predicted: list[list]) -> tuple[Counter, Counter]:
    """Counts of (predicted type, word) false alarms and (gold subtype, word) misses, words lower-cased.

    For synthetic and public sets only: the words of real notes are PHI.
    """
    false_alarms: Counter[tuple[str, str]] = Counter()
    misses: Counter[tuple[str, str]] = Counter()
    for note, prediction in zip(notes, predicted):
        text = note["text"]
        gold = token_labels(text, [(g[0], g[1], g[3] or g[2]) for g in note["phi"]])
        pred = token_labels(text, [(p.start, p.end, p.type) for p in prediction])
        for (start, end, subtype), (_, _, found) in zip(gold, pred):
            if found and not subtype:
                false_alarms[(found, text[start:end].lower())] += 1
            elif subtype and found != subtype.split(".")[0]:
                misses[(subtype, text[start:end].lower())] += 1
    return false_alarms, misses


def _score_rows(set_name: str, notes: list[dict], systems: dict,
                errors: int = 0) -> tuple[list[dict], list[dict], dict[str, float], list[str]]:
    """Per-type rows, rows of recall per planted subtype (benchmark sets only), flat metrics of one set and
    with ``errors``, lines of notenlp's most frequent false-alarm and missed words (never for the aside part).
    """
    rows, metrics, planted, error_lines = [], {}, {}, []
    n_tokens = sum(len(token_labels(note["text"], ())) for note in notes)
    for name, detect in systems.items():
        predicted: list[list] = []

        def remember(note, detect=detect):
            spans = detect(note)
            predicted.append(spans)
            return spans

        tokens, strict, lenient, seconds = score_system(notes, remember)
        types = sorted((set(tokens) | set(strict)) - {"ALL"}, key=lambda t: (t != "PHI", t))
        for phi_type in types:
            tok, ent, len_ = tokens.get(phi_type, Score()), strict.get(phi_type, Score()), lenient.get(phi_type, Score())
            rows.append({"system": name, "type": phi_type, "tok_recall": tok.recall, "tok_precision": tok.precision,
                         "tok_f2": tok.f(2), "ent_recall": ent.recall, "ent_precision": ent.precision,
                         "ent_f2": ent.f(2), "lenient_f2": len_.f(2), "gold_tokens": tok.tp + tok.fn})
            for label, score in (("token", tok), ("entity", ent), ("lenient", len_)):
                metrics.update({f"{set_name}.{name}.{label}.{phi_type}.{k}": v for k, v in
                                (("recall", score.recall), ("precision", score.precision), ("f2", score.f(2)))})
        metrics[f"{set_name}.{name}.notes_per_s"] = len(notes) / seconds if seconds else 0.0
        phi_tokens = tokens.get("PHI", Score())
        other_tokens = n_tokens - phi_tokens.tp - phi_tokens.fn
        metrics[f"{set_name}.{name}.non_phi_replaced_share"] = phi_tokens.fp / other_tokens if other_tokens else 0.0
        if set_name not in TOTALS_ONLY_SETS and any(
                "phi_detail" in n and n["phi_detail"] and "case" in n["phi_detail"][0] for n in notes):
            planted[name] = recall_by_planted(notes, predicted)
        if errors and name == "notenlp" and set_name not in ASIDE_SETS:
            false_alarms, misses = token_errors(notes, predicted)
            error_lines.append(f"{set_name}: notenlp false alarms, most frequent: "
                               + ", ".join(f"{w} ({t}) {c}" for (t, w), c in false_alarms.most_common(errors)))
            error_lines.append(f"{set_name}: notenlp misses, most frequent: "
                               + ", ".join(f"{w} ({t}) {c}" for (t, w), c in misses.most_common(errors)))
    planted_rows = []
    for group in sorted({g for scores in planted.values() for g in scores}):
        row: dict[str, object] = {"planted": group}
        for name, scores in planted.items():
            score = scores.get(group, Score())
            row["gold_tokens"] = score.tp + score.fn
            row[f"{name}_recall"] = score.recall
            metrics[f"{set_name}.{name}.planted.{metric_key(group)}.recall"] = score.recall
        planted_rows.append(row)
    return rows, planted_rows, metrics, error_lines


def run(args: argparse.Namespace) -> int:
    from notenlp.deid.deidentifier import Deidentifier

    sets = chosen_sets(args)
    if args.format == "demo" and args.gold is None:
        log.info("no --gold: scoring %d demo notes generated in memory (seed %d)", args.demo_notes, DEMO_EVAL_SEED)
    deidentifier = Deidentifier(mode="tag", detect_times=args.detect_times)
    systems = {"notenlp": lambda n: deidentifier.detect(n["text"], n.get("note_date"))}
    if not args.no_baseline:
        from notenlp.deid.baseline import PresidioPatternBaseline

        baseline = PresidioPatternBaseline()
        systems[baseline.name] = lambda n: baseline.detect(n["text"])
    metrics: dict[str, float] = {}
    report: dict[str, object] = {"sets": {}}
    per_type_columns = ["system", "type", "tok_recall", "tok_precision", "tok_f2", "ent_recall", "ent_precision",
                        "ent_f2", "lenient_f2", "gold_tokens"]
    for set_name in (s for s in sets if s in SCORED_SETS):
        loaded = load_set(set_name, args)
        if loaded is None:
            continue
        notes, source = loaded
        dropped_times = 0
        if not args.detect_times:
            for note in notes:
                kept = [g for g in note["phi"] if g[3] != "DATE.TIME"]
                dropped_times += len(note["phi"]) - len(kept)
                note["phi"] = kept
                note["phi_detail"] = [p for p in note.get("phi_detail", ()) if p.get("subtype") != "DATE.TIME"]
        rows, planted_rows, set_metrics, error_lines = _score_rows(set_name, notes, systems, args.errors)
        metrics.update(set_metrics)
        print(f"\n== {set_name}: de-identification on {len(notes)} notes ({source}); "
              f"gold clock-time spans left out: {dropped_times}")
        print(format_table(rows, per_type_columns))
        print("share of non-PHI word/number tokens replaced (false alarms): " + ", ".join(
            f"{name} {set_metrics[f'{set_name}.{name}.non_phi_replaced_share']:.4f}" for name in systems))
        if planted_rows:
            print(f"\n{set_name}: token recall per planted subtype / name case")
            print(format_table(planted_rows, list(planted_rows[0])))
        for line in error_lines:
            print(line)
        report["sets"][set_name] = {"source": source, "notes": len(notes), "per_type": rows, "by_planted": planted_rows}
    if "phi-free" in sets:
        report["damage"] = _run_damage(args, systems, metrics)
    if "ner-change" in sets:
        report["ner_change"] = _run_ner_change(args, metrics)
    report["metrics"] = metrics
    if args.json is not None:
        blob = json.dumps(report, indent=2, sort_keys=True, default=str)
        if str(args.json) == "-":
            print(blob)
        else:
            args.json.write_text(blob + "\n", encoding="utf-8")
    if not args.no_mlflow:
        from notenlp.tracking import log_run

        log_run("notenlp-evaluate-deid", f"deid-{'+'.join(sets)}", metrics=metrics,
                params={"sets": ",".join(sets), "gold": args.gold.name if args.gold else "", "split": args.split,
                        "limit": args.limit, "detect_times": args.detect_times,
                        "baseline": ",".join(list(systems)[1:])},
                tables={k: v for k, v in report.items() if k != "metrics"})
    return 0


def _run_damage(args: argparse.Namespace, systems: dict, metrics: dict[str, float]) -> list[dict]:
    from notenlp.corpora import MISSING_MESSAGE
    from notenlp.evaluation.nursing_notes import DAMAGE_PARTS, phi_free_documents

    rows, dev_words = [], None
    for part in DAMAGE_PARTS:
        docs = phi_free_documents(part, args.phi_free_docs)
        if not docs:
            print(f"\nphi-free: skipped, {MISSING_MESSAGE}")
            return rows
        for name, detect in systems.items():
            result = damage(docs, detect)
            if f"phi-free-{part}" not in ASIDE_SETS and name == "notenlp":
                dev_words = result["words"]
            rows.append({"set": f"phi-free-{part}", "system": name, "docs": result["docs"], "tokens": result["tokens"],
                         "replaced": result["replaced"], "replaced_share": result["replaced_share"],
                         "replaced_%": f"{100 * result['replaced_share']:.2f}%",
                         "bar_0.005": "ok" if result["replaced_share"] <= 0.005 else "over",
                         "by_type": " ".join(f"{k}={v}" for k, v in sorted(result["by_type"].items()))})
            metrics[f"phi-free-{part}.{name}.replaced_share"] = result["replaced_share"]
    print("\n== phi-free: share of word/number tokens replaced in real PHI-free clinical sentences "
          "(NegEx, ADE, BC5CDR; bar <= 0.5%)")
    print(format_table(rows, ["set", "system", "docs", "tokens", "replaced", "replaced_%", "bar_0.005", "by_type"]))
    if dev_words:  # public PHI-free corpus words, dev half only: the aside half's errors stay unread
        print("phi-free-dev: words notenlp replaces most: "
              + ", ".join(f"{w} {c}" for w, c in dev_words.most_common(20)))
    return rows


def _run_ner_change(args: argparse.Namespace, metrics: dict[str, float]) -> dict | None:
    from notenlp.corpora import MISSING_MESSAGE
    from notenlp.deid.deidentifier import Deidentifier
    from notenlp.evaluation.nursing_notes import phi_free_documents
    from notenlp.pipeline import Pipeline

    docs = phi_free_documents("dev", args.phi_free_docs)[:args.ner_docs]
    if not docs:
        print(f"\nner-change: skipped, {MISSING_MESSAGE}")
        return None
    deidentifier = Deidentifier(mode="surrogate", secret_hex=_EVALUATION_SECRET, detect_times=args.detect_times)
    result = ner_change(docs, deidentifier, Pipeline.from_config("annotate"))
    print(f"\n== ner-change: {result['docs']} PHI-free dev documents annotated before and after surrogate "
          f"de-identification ({result['docs_changed']} changed by it)")
    print(format_table([{k: v for k, v in result.items() if k not in ("docs", "docs_changed")}],
                       ["entities_before", "entities_after", "lost", "added", "changed_share", "lost_by_label"]))
    metrics.update({f"ner-change.{k}": float(v) for k, v in result.items() if k != "lost_by_label"})
    return result
