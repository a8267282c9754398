"""Recipe: train the Spark NLP NER pipeline (Word2Vec + NerCrfApproach) on NCBI Disease train and
score it on NCBI Disease dev; writes a Spark NLP ``PipelineModel`` folder for NOTENLP_SPARKNLP_MODEL.

    python models/sparknlp_ner/train.py --out models/sparknlp_ner/model
    python models/sparknlp_ner/train.py --limit 50 --epochs 3      # a quick, small run

Needs a Spark that Spark NLP publishes a JAR for (see notenlp.interop.sparknlp.spark_nlp_conf);
the corpora are read from the corpora folder, never copied.
"""

import argparse
import sys
import time
from pathlib import Path

from notenlp.corpora import MISSING_MESSAGE, corpora_dir
from notenlp.metrics import span_scores
from notenlp.ner.corpora import BC5CDR_LABELS, CORPUS_FILES, NCBI_LABELS, read_pubtator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/sparknlp_ner/model"))
    parser.add_argument("--limit", type=int, default=0, help="train on the first N abstracts (0: all)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--no-unlabelled", action="store_true", help="Word2Vec on the NCBI training text only")
    parser.add_argument("--l2", type=float, default=1.0, help="NerCrf L2 penalty")
    parser.add_argument("--dim", type=int, default=100, help="Word2Vec vector size")
    args = parser.parse_args()
    root = corpora_dir()
    if root is None:
        print(MISSING_MESSAGE, file=sys.stderr)
        return 2
    train_docs = read_pubtator(root / CORPUS_FILES["ncbi"][0], NCBI_LABELS)
    dev_docs = read_pubtator(root / CORPUS_FILES["ncbi"][1], NCBI_LABELS)
    if args.limit:
        train_docs = train_docs[: args.limit]
    # BC5CDR's training abstracts only widen the Word2Vec vocabulary (their labels are not used).
    unlabelled = [] if args.no_unlabelled else [
        d.text for d in read_pubtator(root / CORPUS_FILES["bc5cdr"][0], BC5CDR_LABELS)]

    from notenlp.config import Settings
    from notenlp.interop import sparknlp_ner
    from notenlp.spark_session import get_spark

    spark = get_spark(Settings.from_env(engine="sparknlp"), "sparknlp-ner-train")
    started = time.perf_counter()
    model = sparknlp_ner.train(spark, [(d.text, d.mentions) for d in train_docs], unlabelled,
                               embedding_dim=args.dim, max_epochs=args.epochs, l2=args.l2)
    trained = time.perf_counter() - started
    model.write().overwrite().save(str(args.out))
    started = time.perf_counter()
    found = sparknlp_ner.predict(spark, model, [d.text for d in dev_docs])
    predicted = time.perf_counter() - started
    gold = [(k, s, e, label) for k, d in enumerate(dev_docs) for s, e, label in d.mentions]
    spans = [(k, s, e, label) for k, doc_spans in enumerate(found) for s, e, label in doc_spans]
    strict, lenient = span_scores(gold, spans)["ALL"], span_scores(gold, spans, lenient=True)["ALL"]
    print(f"trained on {len(train_docs)} NCBI train abstracts (+{len(unlabelled)} unlabelled for Word2Vec) "
          f"in {trained:.0f} s; saved {args.out}")
    print(f"NCBI dev ({len(dev_docs)} abstracts, {len(gold)} mentions): strict P {strict.precision:.3f} "
          f"R {strict.recall:.3f} F1 {strict.f1:.3f}; lenient F1 {lenient.f1:.3f}; "
          f"predict {len(dev_docs) / predicted:.1f} abstracts/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
