"""``notenlp evaluate relations``: relation precision/recall/F1 beside a co-occurrence baseline.

Sources: the ADE corpus v2 held-out PMIDs (those the training recipe never saw; drug -> adverse
effect and drug -> dose, with the negative sentences) and the demo gold. Each is scored
(a) on gold entities and (b) end to end, on the entities the project's own annotate pipeline
finds. A relation matches when head span, tail span and type agree: strictly (same offsets) and
leniently (both spans overlap). The baseline relates every admissible pair in a sentence.
On ADE, has_strength and has_dose both map to the corpus's one dose relation, and a dose counts
only for a drug the same system puts in an adverse event (``ade_dose_scope``): the corpus
annotates doses of adverse-event drugs only, so a correct dose of another drug is no error there.
End to end, ADE is scored twice: on all held-out sentences, the corpus's negative ones included
(the issue's setting), and on its positive sentences only (``ade_end_to_end_positive``), the
setting of the published results (SpERT and others train and score on the 4,272 sentences with a
relation), so the figures can be set beside theirs.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from notenlp.attributes import RELATION_TYPES
from notenlp.corpora import MISSING_MESSAGE, corpora_dir
from notenlp.doc import Doc
from notenlp.metrics import Score, format_table, span_scores
from notenlp.relations.component import load_rules
from notenlp.relations.features import ADMISSIBLE, Context, FeatureExtractor, candidate_pairs

log = logging.getLogger(__name__)

SCOPE = FeatureExtractor(load_rules())
RELATION_EXTRACTOR = "notenlp.relations.component:RelationExtractor"
Rel = tuple[Any, int, int, int, int, str]  # (doc key, head start, head end, tail start, tail end, type)
# The ADE corpus has one dose relation; a pipeline may call the same span a STRENGTH or a DOSE.
ADE_TYPE = {"causes_adverse_event": "causes_adverse_event", "has_dose": "has_dose", "has_strength": "has_dose"}


def ade_dose_scope(relations: list[Rel]) -> list[Rel]:
    """The ADE corpus's dose notion: the dose of a drug in an adverse event (every one of its
    drug-dose pairs has a drug that heads a drug-AE pair of the same sentence). So a dose relation
    counts on ADE only when the same system relates its drug to an adverse event in that sentence."""
    ae_drugs = {(key, hs, he) for key, hs, he, _, _, kind in relations if kind == "causes_adverse_event"}
    return [r for r in relations if r[5] != "has_dose" or (r[0], r[1], r[2]) in ae_drugs]


def relation_scores(gold: Iterable[Rel], predicted: Iterable[Rel], *, lenient: bool = False) -> dict[str, Score]:
    """Per-type scores plus ``ALL``; lenient matching needs both spans to overlap, each gold used once."""
    return span_scores(gold, predicted, lenient=lenient)


def doc_relations(doc: Doc, key: Any, type_map: dict[str, str] | None = None) -> list[Rel]:
    """Span tuples of a Doc's relations (heads/tails are entity ids after ``finalize``)."""
    by_id = {(e.id if e.id >= 0 else i): e for i, e in enumerate(doc.entities)}
    out = []
    for r in doc.relations:
        head, tail = by_id.get(r.head), by_id.get(r.tail)
        kind = (type_map or {}).get(r.type, r.type if type_map is None else None)
        if head is not None and tail is not None and kind:
            out.append((key, head.start, head.end, tail.start, tail.end, kind))
    return out


def cooccurrence(doc: Doc, key: Any, types: Iterable[str], type_map: dict[str, str] | None = None,
                 scope: FeatureExtractor | None = None) -> list[Rel]:
    """Baseline: every pair in one sentence (or list line) whose labels a relation type admits."""
    wanted = set(types)
    heads = {h for t in wanted for h in RELATION_TYPES[t][0]}
    tails = {x for t in wanted for x in RELATION_TYPES[t][1]}
    ctx = scope.context(doc) if scope is not None else Context.build(doc)
    out = []
    for i, j in candidate_pairs(ctx, heads, tails):
        head, tail = doc.entities[i], doc.entities[j]
        for t in ADMISSIBLE[(head.label, tail.label)]:
            kind = (type_map or {}).get(t, t if type_map is None else None)
            if t in wanted and kind:
                out.append((key, head.start, head.end, tail.start, tail.end, kind))
    return out


def entity_pipeline(config: str) -> tuple[Callable[[Doc], Doc] | None, list[str], list[str]]:
    """The annotate pipeline without the relation extractor (entity steps, the relation mentions
    included), keeping only the components that start here."""
    from notenlp.pipeline import Pipeline, load_config, load_factory

    cfg = load_config(config)
    components, kept, skipped = [], [], []
    for entry in cfg["components"]:
        if entry["factory"] == RELATION_EXTRACTOR:
            continue
        try:
            components.append((entry["name"], load_factory(entry["factory"])(**entry.get("config", {}))))
            kept.append(entry)
        except Exception as error:  # a component missing here (module, model file) is reported, not fatal
            skipped.append(f"{entry['name']} ({type(error).__name__})")
    if not components:
        return None, [], skipped
    pipeline = Pipeline(components, {**cfg, "components": kept})
    return pipeline, pipeline.names, skipped


def score_rows(name: str, gold: list[Rel], system: list[Rel], baseline: list[Rel], types: list[str],
               metrics: dict[str, float]) -> list[dict[str, object]]:
    rows = []
    for mode in ("strict", "lenient"):
        for who, predicted in (("relations", system), ("co-occurrence", baseline)):
            scores = relation_scores(gold, predicted, lenient=mode == "lenient")
            for t in [*types, "ALL"]:
                s = scores.get(t, Score())
                rows.append({"set": name, "match": mode, "system": who, "type": t, "P": s.precision,
                             "R": s.recall, "F1": s.f1, "tp": s.tp, "fp": s.fp, "fn": s.fn})
                tag = "system" if who == "relations" else "baseline"
                metrics.update(s.as_dict(f"{name}_{mode}_{tag}_{t}_"))
    return rows


def in_sentences(keys: set[Any], *relation_lists: list[Rel]) -> list[list[Rel]]:
    """Each list cut to the relations of the documents whose key is in ``keys``."""
    return [[r for r in relations if r[0] in keys] for relations in relation_lists]


def evaluate_ade(args: argparse.Namespace, extractor: Any, pipeline: Any, metrics: dict[str, float]) -> list[dict]:
    from notenlp.relations.ade import read_ade, split, to_doc
    from notenlp.relations.training import ade_gazetteer

    sentences = read_ade()
    train, held_out = split(sentences)
    if args.limit:
        held_out = held_out[: args.limit]
    types = ["causes_adverse_event", "has_dose"]
    positive = {k for k, sentence in enumerate(held_out) if sentence.mentions}
    rows: list[dict] = []
    gold_all: list[Rel] = []
    system, baseline = [], []
    for k, sentence in enumerate(held_out):
        doc, gold = to_doc(sentence)
        gold_all.extend((k, *g) for g in gold)
        baseline.extend(cooccurrence(doc, k, ["causes_adverse_event", "has_dose"], ADE_TYPE, SCOPE))
        system.extend(doc_relations(extractor(doc).finalize(), k, ADE_TYPE))
    rows += score_rows("ade_gold_entities", gold_all, ade_dose_scope(system), ade_dose_scope(baseline), types, metrics)

    if pipeline is not None:
        source = "annotate pipeline"
        find = pipeline
    else:
        gazetteer = ade_gazetteer(train)
        source = "gazetteer of ADE training-split + BC5CDR mentions (no NER component importable)"

        def find(doc: Doc) -> Doc:
            doc.entities = gazetteer.find(doc.text)
            return doc.finalize()

    print(f"ADE end-to-end entity source: {source}")
    system, baseline = [], []
    started = time.time()
    for k, sentence in enumerate(held_out):
        doc, _ = to_doc(sentence, with_entities=False)
        doc = find(doc)
        baseline.extend(cooccurrence(doc, k, ["causes_adverse_event", "has_dose", "has_strength"], ADE_TYPE, SCOPE))
        doc.relations = []
        system.extend(doc_relations(extractor(doc).finalize(), k, ADE_TYPE))
        if (k + 1) % 1000 == 0:
            log.info("ADE end to end: %d/%d sentences (%.0f s)", k + 1, len(held_out), time.time() - started)
    system, baseline = ade_dose_scope(system), ade_dose_scope(baseline)
    rows += score_rows("ade_end_to_end", gold_all, system, baseline, types, metrics)
    rows += score_rows("ade_end_to_end_positive", gold_all, *in_sentences(positive, system, baseline), types, metrics)
    metrics["ade_heldout_sentences"] = len(held_out)
    metrics["ade_heldout_positive_sentences"] = len(positive)
    return rows


def demo_notes(args: argparse.Namespace) -> list[dict]:
    if args.demo_gold:
        from notenlp.relations.training import read_demo_gold

        return read_demo_gold(args.demo_gold)
    try:
        from notenlp.demo.generator import iter_demo_notes
    except ImportError:
        return []
    return list(iter_demo_notes(args.demo_notes, seed=args.demo_seed))


def evaluate_demo(notes: list[dict], extractor: Any, pipeline: Any, splitter: Any,
                  metrics: dict[str, float]) -> list[dict]:
    from notenlp.relations.training import demo_doc

    types = list(RELATION_TYPES)
    gold_all, system, baseline = [], [], []
    for k, note in enumerate(notes):
        doc, gold = demo_doc(note)
        if splitter is not None:
            doc = splitter(doc)
        gold_all.extend((k, *g) for g in gold)
        baseline.extend(cooccurrence(doc, k, types, scope=SCOPE))
        system.extend(doc_relations(extractor(doc).finalize(), k))
    rows = score_rows("demo_gold_entities", gold_all, system, baseline, types, metrics)
    if pipeline is None:
        print("demo end to end: skipped (no entity components of the annotate pipeline are importable)")
        return rows
    system, baseline = [], []
    for k, note in enumerate(notes):
        doc = pipeline(Doc(text=note["text"], note_id=note.get("note_id", k)))
        baseline.extend(cooccurrence(doc, k, types, scope=SCOPE))
        doc.relations = []
        system.extend(doc_relations(extractor(doc).finalize(), k))
    rows += score_rows("demo_end_to_end", gold_all, system, baseline, types, metrics)
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-path", default="relations/model.json", help="relation model file")
    parser.add_argument("--threshold", type=float, default=None,
                        help="classifier probability threshold for every type (default: the model's own per type)")
    parser.add_argument("--pipeline", default="annotate", help="pipeline config finding entities end to end")
    parser.add_argument("--demo-gold", help="demo gold.jsonl (default: generate --demo-notes notes)")
    parser.add_argument("--demo-notes", type=int, default=200, help="demo notes to generate when no file is given")
    parser.add_argument("--demo-seed", type=int, default=7, help="seed of the generated demo notes "
                        "(the training recipe uses another)")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N held-out ADE sentences")
    parser.add_argument("--no-ade", action="store_true", help="skip the ADE corpus")


def run(args: argparse.Namespace) -> int:
    from notenlp.relations.component import RelationExtractor
    from notenlp.tracking import log_run

    extractor = RelationExtractor(model_path=args.model_path, threshold=args.threshold)
    pipeline, used, skipped = entity_pipeline(args.pipeline)
    print(f"entity pipeline components used: {', '.join(used) or 'none'}"
          + (f"; not importable here: {', '.join(skipped)}" if skipped else ""))
    splitter = None
    if pipeline is not None and "sentences" in used:
        splitter = dict(pipeline.components)["sentences"]
    metrics: dict[str, float] = {}
    rows: list[dict] = []
    if not args.no_ade:
        if corpora_dir() is None:
            print(f"ADE corpus skipped: {MISSING_MESSAGE}")
        else:
            rows += evaluate_ade(args, extractor, pipeline, metrics)
    notes = demo_notes(args)
    if notes:
        rows += evaluate_demo(notes, extractor, pipeline, splitter, metrics)
        metrics["demo_notes"] = len(notes)
    else:
        print("demo gold skipped: no --demo-gold file and notenlp.demo.generator is not importable")
    if not rows:
        print("nothing to score")
        return 1
    print(format_table(rows, ["set", "match", "system", "type", "P", "R", "F1", "tp", "fp", "fn"]))
    log_run("relations-evaluation", "evaluate-relations", metrics=metrics,
            params={"model_path": args.model_path, "pipeline": args.pipeline,
                    "threshold": "model" if args.threshold is None else args.threshold,
                    "entity_components": ",".join(used) or "none", "demo_seed": args.demo_seed,
                    "limit": args.limit},
            tables={"scores": rows})
    return 0
