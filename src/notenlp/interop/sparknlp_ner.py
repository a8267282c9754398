"""A Spark NLP NER ``PipelineModel`` trained here: DocumentAssembler, SentenceDetector, Tokenizer, a
token-shape tagger (PerceptronApproach), Word2Vec embeddings (Word2VecApproach) and NerCrfApproach,
then NerConverter -> ``ner_chunk``. No pretrained Spark NLP model is downloaded.

NerCrfApproach needs a ``pos`` column. No POS corpus is at hand, so the perceptron learns each
token's shape class (``Xx``, ``x``, ``d``, ``p``...) from the training text and the CRF uses it as its
POS feature. NerDLApproach is not used: its TensorFlow backend is not served on Maven Central (see
``notenlp.interop.sparknlp.NATIVE_BACKENDS``).

Functions import pyspark and sparknlp inside, so ``notenlp`` imports without either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from notenlp.interop.sparknlp import ANNOTATION_SCHEMA

TEXT_COLUMN = "text"
CHUNK_COLUMN = "ner_chunk"
_SHAPES = ((re.compile(r"^\d+$"), "d"), (re.compile(r"^[A-Z][a-z]+$"), "Xx"), (re.compile(r"^[a-z]+$"), "x"),
           (re.compile(r"^[A-Z]+$"), "X"), (re.compile(r"^[A-Za-z]*\d[A-Za-z\d]*$"), "Xd"),
           (re.compile(r"^\W+$"), "p"))


def token_shape(token: str) -> str:
    """Coarse shape class of a token: the tag the CRF's POS slot carries."""
    for pattern, shape in _SHAPES:
        if pattern.match(token):
            return shape
    return "m"


def bio_tags(tokens: Sequence[tuple[int, int]], mentions: Iterable[tuple[int, int, str]]) -> list[str]:
    """IOB2 tags for tokens given as (begin, end exclusive) against mentions (start, end exclusive, label).

    A token belongs to a mention when it overlaps it; the first such token of a mention is ``B-``.
    """
    tags = ["O"] * len(tokens)
    for start, end, label in mentions:
        inside = [i for i, (b, e) in enumerate(tokens) if b < end and e > start]
        for k, i in enumerate(inside):
            if tags[i] == "O":
                tags[i] = ("B-" if k == 0 else "I-") + label
    return tags


def _stages(*, embedding_dim: int, min_count: int, max_epochs: int, l2: float, seed: int) -> dict[str, Any]:
    from sparknlp.annotator import (NerConverter, NerCrfApproach, PerceptronApproach, SentenceDetector, Tokenizer,
                                    Word2VecApproach)
    from sparknlp.base import DocumentAssembler

    return {
        "document": DocumentAssembler().setInputCol(TEXT_COLUMN).setOutputCol("document"),
        "sentence": SentenceDetector().setInputCols(["document"]).setOutputCol("sentence"),
        "token": Tokenizer().setInputCols(["sentence"]).setOutputCol("token"),
        "pos": PerceptronApproach().setInputCols(["document", "token"]).setOutputCol("pos")
        .setPosColumn("shape_tags").setNIterations(3),
        "embeddings": Word2VecApproach().setInputCols(["token"]).setOutputCol("embeddings")
        .setVectorSize(embedding_dim).setMinCount(min_count).setMaxIter(1).setSeed(seed)
        .setStorageRef(f"notenlp_w2v_{embedding_dim}"),
        "ner": NerCrfApproach().setInputCols(["sentence", "token", "pos", "embeddings"]).setLabelColumn("label")
        .setOutputCol("ner").setMinEpochs(1).setMaxEpochs(max_epochs).setL2(l2).setIncludeConfidence(True).setRandomSeed(seed),
        "chunk": NerConverter().setInputCols(["sentence", "token", "ner"]).setOutputCol(CHUNK_COLUMN),
    }


def _labelled(tokenized, mentions_column: str = "mentions"):
    """Add ``shape_tags`` (pos annotations: each token's shape) and ``label`` (named_entity annotations,
    IOB2 tags from the mentions), one per token, as Spark NLP's POS and CoNLL readers make them."""
    from pyspark.sql import functions as F

    def per_token(annotator_type, tags_of):
        @F.udf(ANNOTATION_SCHEMA)
        def annotate(tokens, mentions):
            tokens = tokens or []
            return [{"annotatorType": annotator_type, "begin": t["begin"], "end": t["end"], "result": tag,
                     "metadata": {"word": t["result"], "sentence": (t["metadata"] or {}).get("sentence", "0")},
                     "embeddings": []} for t, tag in zip(tokens, tags_of(tokens, mentions or []))]
        return annotate

    shapes = per_token("pos", lambda tokens, _: [token_shape(t["result"]) for t in tokens])
    labels = per_token("named_entity", lambda tokens, mentions: bio_tags(
        [(t["begin"], t["end"] + 1) for t in tokens], [(m["start"], m["end"], m["label"]) for m in mentions]))
    token, mentions = F.col("token"), F.col(mentions_column)
    return (tokenized.withColumn("shape_tags", shapes(token, mentions).alias("shape_tags", metadata={"annotatorType": "pos"}))
            .withColumn("label", labels(token, mentions).alias("label", metadata={"annotatorType": "named_entity"})))


def train(spark, labelled: Sequence[tuple[str, Sequence[tuple[int, int, str]]]], unlabelled: Sequence[str] = (), *,
          embedding_dim: int = 100, min_count: int = 2, max_epochs: int = 10, l2: float = 1.0, seed: int = 13):
    """Fit the pipeline on (text, mentions) pairs; ``unlabelled`` texts only widen the Word2Vec vocabulary.

    Returns a ``pyspark.ml.PipelineModel`` whose output column ``ner_chunk`` holds the mentions. ``l2``:
    the CRF's penalty (Spark NLP's default 1.0 leaves a model trained on a few dozen sentences tagging
    everything O; 0.01 learns them).
    """
    from pyspark.ml import Pipeline, PipelineModel

    stages = _stages(embedding_dim=embedding_dim, min_count=min_count, max_epochs=max_epochs, l2=l2, seed=seed)
    frame = spark.createDataFrame(
        [(text, [{"start": s, "end": e, "label": label} for s, e, label in mentions]) for text, mentions in labelled],
        f"{TEXT_COLUMN} string, mentions array<struct<start:int,end:int,label:string>>")
    texts = spark.createDataFrame([(t,) for t in [text for text, _ in labelled] + list(unlabelled)],
                                  f"{TEXT_COLUMN} string")
    base = Pipeline(stages=[stages["document"], stages["sentence"], stages["token"]]).fit(texts)
    tokenized = _labelled(base.transform(frame)).cache()
    pos = stages["pos"].fit(tokenized)
    embeddings = stages["embeddings"].fit(base.transform(texts))
    ner = stages["ner"].fit(embeddings.transform(pos.transform(tokenized)))
    tokenized.unpersist()
    return PipelineModel(stages=[*base.stages, pos, embeddings, ner, stages["chunk"]])


def chunk_spans(rows: Iterable[Any], chunk_column: str = CHUNK_COLUMN) -> list[list[tuple[int, int, str]]]:
    """(start, end exclusive, label) per row from collected rows with a Spark NLP chunk column."""
    return [[(c["begin"], c["end"] + 1, (c["metadata"] or {}).get("entity", "")) for c in row[chunk_column] or []]
            for row in rows]


def predict(spark, model, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
    """Mentions of each text, in order, by a fitted pipeline with a ``ner_chunk`` output."""
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], f"_row int, {TEXT_COLUMN} string")
    rows = model.transform(frame).select("_row", CHUNK_COLUMN).orderBy(F.col("_row")).collect()
    return chunk_spans(rows)
