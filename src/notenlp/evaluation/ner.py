"""``notenlp evaluate ner``: strict and lenient mention F1 per label of the CRF alone, beside a
dictionary baseline, the two combined as in the annotate pipeline, and the whole annotate
pipeline (which adds the rule components: findings, medication attributes, relation mentions)."""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path

from notenlp.corpora import MISSING_MESSAGE, corpora_dir
from notenlp.doc import Doc, Entity
from notenlp.metrics import format_table, span_scores
from notenlp.ner.corpora import (
    BC5CDR_LABELS, CORPUS_DOMAINS, CORPUS_FILES, CORPUS_LABELS, NCBI_LABELS, NER_LABELS, LabelledText, read_ade,
    read_demo_gold, read_pubtator, split_by_document,
)
from notenlp.ner.component import merge
from notenlp.ner.document import Mention
from notenlp.ner.model import NerModel
from notenlp.ner.tokenize import split_sentences, tokenize
from notenlp.resources import resource_path

log = logging.getLogger(__name__)

EXPERIMENT = "notenlp-evaluate"
NOTE_CHARS = 2000  # notes/s are reported for notes of this length
Predictor = Callable[[LabelledText], list[tuple[int, int, str]]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", choices=("bc5cdr", "ncbi", "ade", "demo"), default="bc5cdr",
                        help="gold format and labels scored (default: bc5cdr)")
    parser.add_argument("--gold", type=Path, default=None,
                        help="gold file (default: the corpus dev part in the corpora folder; demo: demo/gold.jsonl)")
    parser.add_argument("--model", default=None, help="NER model file (default: the shipped model)")
    parser.add_argument("--domain", default=None,
                        help="annotation convention the model tags by, one of the model's training domains "
                             "(default: the corpus's own when the model was trained on it, else the model's default; "
                             "'' for the shared weights only)")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N texts (0: all)")
    parser.add_argument("--no-pipeline", action="store_true",
                        help="skip the 'pipeline' row: the entities of the whole annotate pipeline, as NOTE_NLP gets them "
                             "(its NER model tags in the pipeline's configured domain, not the corpus's)")
    parser.add_argument("--engine", choices=("python", "sparknlp"), default="python",
                        help="sparknlp: also score the Spark NLP PipelineModel of --sparknlp-model (row 'sparknlp'), "
                             "beside the Python engine's rows, on the same texts")
    parser.add_argument("--sparknlp-model", default=None,
                        help="folder of a saved Spark NLP PipelineModel with a ner_chunk output (NOTENLP_SPARKNLP_MODEL)")
    parser.add_argument("--speed-notes", type=int, default=300,
                        help=f"also time the ModelNER component on N notes of ~{NOTE_CHARS} chars built from the gold texts")


def load_gold(corpus: str, gold: Path | None) -> list[LabelledText]:
    if corpus == "demo":
        return read_demo_gold(gold or Path("demo") / "gold.jsonl")
    if gold is None:
        root = corpora_dir()
        if root is None:
            raise FileNotFoundError(MISSING_MESSAGE)
        gold = root / CORPUS_FILES[corpus][1]
    if corpus == "ade":
        # The dev part is the held-out fifth of the PMIDs (the rest trains the model).
        return split_by_document(read_ade(gold))[1]
    return read_pubtator(gold, BC5CDR_LABELS if corpus == "bc5cdr" else NCBI_LABELS)


def dictionary_baseline(model: NerModel) -> tuple[str, Predictor]:
    """The project's dictionary matcher, or (until it is importable) exact matching of the
    training-set mentions the model was trained with."""
    try:
        from notenlp.vocab.matcher import DictionaryMatcher

        matcher = DictionaryMatcher()
    except Exception as error:  # the vocab package may be missing or have no compiled dictionary yet
        log.info("dictionary matcher unavailable (%s)", type(error).__name__)
        gazetteer = model.crf.extractor

        def gazetteer_predict(doc: LabelledText) -> list[tuple[int, int, str]]:
            found = []
            for start, end in split_sentences(doc.text):
                tokens = tokenize(doc.text, start, end)
                tags = gazetteer.gazetteer_tags([t[0].lower() for t in tokens])
                for i, tag in enumerate(tags):
                    if tag and tag.startswith("B-"):
                        j = i + 1
                        while j < len(tags) and tags[j] == f"I-{tag[2:]}":
                            j += 1
                        found.append((tokens[i][1], tokens[j - 1][2], tag[2:]))
            return found

        return "exact-string gazetteer of training mentions (vocab DictionaryMatcher not importable)", gazetteer_predict

    def matcher_predict(doc: LabelledText) -> list[tuple[int, int, str]]:
        annotated = matcher(Doc(text=doc.text))
        return [(e.start, e.end, e.label) for e in annotated.entities]

    return "notenlp.vocab.matcher:DictionaryMatcher", matcher_predict


def combine(text: str, found: list[tuple[int, int, str]], mentions: list[Mention]) -> list[tuple[int, int, str]]:
    """The dictionary's entities with the CRF's mentions merged in by :func:`notenlp.ner.component.merge`."""
    entities = [Entity(start=s, end=e, text=text[s:e], label=label, source="dictionary") for s, e, label in found]
    for m in mentions:
        merge(entities, Entity(start=m.start, end=m.end, text=text[m.start:m.end], label=m.label, source="model"))
    return [(e.start, e.end, e.label) for e in entities]


def run(args: argparse.Namespace) -> int:
    from notenlp.tracking import log_run

    try:
        docs = load_gold(args.corpus, args.gold)
    except FileNotFoundError as error:
        log.error("%s", error)
        return 2
    if args.limit:
        docs = docs[: args.limit]
    labels = CORPUS_LABELS.get(args.corpus, NER_LABELS)
    model_path = Path(args.model) if args.model else resource_path("ner", "ner_crf.zip")
    domain = args.domain if args.domain is not None else corpus_domain(model_path, args.corpus)
    model = NerModel.load(model_path, domain)
    baseline_name, baseline = dictionary_baseline(model)

    gold = [(k, s, e, label) for k, d in enumerate(docs) for s, e, label in d.mentions if label in labels]
    started, cpu_started = time.perf_counter(), time.process_time()
    mentions = [model.predict_document(d.text) for d in docs]
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    found = [baseline(d) for d in docs]
    systems = {
        "crf": [(k, m.start, m.end, m.label) for k, ms in enumerate(mentions) for m in ms],
        "baseline": [(k, s, e, label) for k, spans in enumerate(found) for s, e, label in spans],
        "combined": [(k, s, e, label) for k, (d, spans, ms) in enumerate(zip(docs, found, mentions))
                     for s, e, label in combine(d.text, spans, ms)],
    }
    if not args.no_pipeline:
        systems["pipeline"] = pipeline_entities(docs)
    if getattr(args, "engine", "python") == "sparknlp":
        systems["sparknlp"], speed_sparknlp = sparknlp_entities(docs, args.sparknlp_model)

    chars = sum(len(d.text) for d in docs)
    tokens = sum(len(tokenize(d.text)) for d in docs)
    print(f"NER on {args.corpus} ({len(docs)} texts, {len(gold)} gold mentions of {', '.join(labels)})")
    print(f"model: {model_path.name} (domain: {model.domain or 'shared weights'}); baseline: {baseline_name}; combined: the baseline's entities, then the "
          f"CRF's merged in as the annotate pipeline's ner_model does"
          + ("" if args.no_pipeline else "; pipeline: the whole annotate pipeline's entities"))
    rows, metrics = [], {}
    for system, spans in systems.items():
        spans = [span for span in spans if span[3] in labels]
        strict, lenient = span_scores(gold, spans), span_scores(gold, spans, lenient=True)
        for label in [*labels, "ALL"]:
            s, l = strict.get(label), lenient.get(label)
            if s is None:
                continue
            rows.append({"system": system, "label": label, "strict_p": s.precision, "strict_r": s.recall,
                         "strict_f1": s.f1, "lenient_f1": l.f1, "tp": s.tp, "fp": s.fp, "fn": s.fn})
            metrics.update({f"{system}.strict.{label}.{k}": v for k, v in s.as_dict().items()})
            metrics.update({f"{system}.lenient.{label}.{k}": v for k, v in l.as_dict().items()})
    print(format_table(rows, ["system", "label", "strict_p", "strict_r", "strict_f1", "lenient_f1", "tp", "fp", "fn"]))
    speed = {"crf.texts_per_s": len(docs) / seconds, "crf.tokens_per_s": tokens / seconds,
             f"crf.notes_per_s_{NOTE_CHARS}_chars": chars / NOTE_CHARS / seconds,
             "crf.tokens_per_cpu_s": tokens / cpu_seconds}
    print(f"crf speed (one process, cold word cache): {speed['crf.tokens_per_s']:.0f} tokens/s, "
          f"{speed['crf.texts_per_s']:.0f} texts/s (= {speed[f'crf.notes_per_s_{NOTE_CHARS}_chars']:.0f} notes/s of "
          f"{NOTE_CHARS} chars); {speed['crf.tokens_per_cpu_s']:.0f} tokens per CPU second")
    if args.speed_notes:
        speed.update(component_speed(model_path, docs, args.speed_notes, model.domain))
        for cache in ("cold", "warm"):
            print(f"ModelNER component, {args.speed_notes} notes of {NOTE_CHARS} chars, sentences given, {cache} word "
                  f"cache: {speed[f'component.{cache}.notes_per_s']:.0f} notes/s, "
                  f"{speed[f'component.{cache}.tokens_per_s']:.0f} tokens/s "
                  f"({speed[f'component.{cache}.notes_per_cpu_s']:.0f} notes per CPU second)")
    if "sparknlp" in systems:
        speed.update(speed_sparknlp)
        print(f"sparknlp (one local Spark session, transform + collect): {speed_sparknlp['sparknlp.texts_per_s']:.1f} texts/s")
    metrics.update(speed)
    log_run(EXPERIMENT, f"ner-{args.corpus}", metrics=metrics,
            params={"corpus": args.corpus, "texts": len(docs), "model": model_path.name, "domain": model.domain, "baseline": baseline_name},
            tables={"ner_scores": rows})
    return 0


def sparknlp_entities(docs: list[LabelledText], model_path: str | None) -> tuple[list[tuple[int, int, int, str]], dict[str, float]]:
    """Mentions of a Spark NLP PipelineModel (its ``ner_chunk``) on the gold texts, and its texts/s."""
    from pyspark.ml import PipelineModel

    from notenlp.config import ConfigError, Settings
    from notenlp.interop import sparknlp_ner
    from notenlp.spark_session import get_spark

    settings = Settings.from_env(engine="sparknlp", sparknlp_model=model_path)
    if not settings.sparknlp_model:
        raise ConfigError("--engine sparknlp needs --sparknlp-model (or NOTENLP_SPARKNLP_MODEL): a saved Spark NLP "
                          "PipelineModel folder, e.g. from models/sparknlp_ner/train.py")
    spark = get_spark(settings, "notenlp-evaluate-sparknlp")
    model = PipelineModel.load(settings.sparknlp_model)
    started = time.perf_counter()
    found = sparknlp_ner.predict(spark, model, [d.text for d in docs])
    seconds = time.perf_counter() - started
    spans = [(k, s, e, label) for k, doc_spans in enumerate(found) for s, e, label in doc_spans]
    return spans, {"sparknlp.texts_per_s": len(docs) / seconds}


def pipeline_entities(docs: list[LabelledText]) -> list[tuple[int, int, int, str]]:
    """(text number, start, end, label) of the entities the annotate pipeline writes for each text."""
    from notenlp.pipeline import Pipeline

    pipeline = Pipeline.from_config("annotate")
    found = []
    for k, doc in enumerate(docs):
        found.extend((k, e.start, e.end, e.label) for e in pipeline(Doc(text=doc.text, note_id=k)).entities)
        if (k + 1) % 500 == 0:
            log.info("annotate pipeline: %d/%d texts", k + 1, len(docs))
    return found


def corpus_domain(model_path: Path, corpus: str) -> str | None:
    """The corpus's own domain when the model was trained on it, else None (the model's default)."""
    domain = CORPUS_DOMAINS.get(corpus)
    return domain if domain in NerModel.read_meta(model_path).get("domains", ()) else None


def component_speed(model_path: Path, docs: list[LabelledText], n: int, domain: str | None = None) -> dict[str, float]:
    """notes/s of the pipeline component on notes of about NOTE_CHARS characters (gold texts
    joined by newlines), with sentences already split as the annotate pipeline gives them."""
    from notenlp.doc import Span
    from notenlp.ner.component import ModelNER

    notes, current = [], ""
    for doc in (d for _ in range(n) for d in docs):
        current = f"{current}\n{doc.text}" if current else doc.text
        if len(current) >= NOTE_CHARS:
            notes.append(current[:NOTE_CHARS])
            current = ""
            if len(notes) == n:
                break
    component = ModelNER(model_path=str(model_path), domain=domain)
    prepared = [[Span(s, e) for s, e in split_sentences(text)] for text in notes]
    tokens = sum(len(tokenize(text)) for text in notes)
    speed = {}
    # First pass: every word form is new to the cache; second pass: all are cached, as in a long run.
    for cache in ("cold", "warm"):
        started, cpu_started = time.perf_counter(), time.process_time()
        for text, sentences in zip(notes, prepared):
            component(Doc(text=text, sentences=sentences))
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        speed[f"component.{cache}.notes_per_s"] = len(notes) / seconds
        speed[f"component.{cache}.tokens_per_s"] = tokens / seconds
        speed[f"component.{cache}.notes_per_cpu_s"] = len(notes) / cpu_seconds
    return speed
