import argparse

import pytest

from notenlp.config import Settings
from notenlp.corpora import MISSING_MESSAGE, corpora_dir
from notenlp.evaluation import ner as evaluate


@pytest.mark.slow
def test_evaluate_prints_model_and_baseline_and_logs_to_mlflow(tiny_model_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOTENLP_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    text = "Patient was given heparin for headache . History of pneumonia , started on insulin ."
    gold = tmp_path / "gold.txt"
    lines = [f"9|t|{text}", "9|a|"]
    for word, kind in (("heparin", "Chemical"), ("headache", "Disease"), ("pneumonia", "Disease"), ("insulin", "Chemical")):
        start = text.index(word)
        lines.append(f"9\t{start}\t{start + len(word)}\t{word}\t{kind}\t-")
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    evaluate.add_arguments(parser)
    args = parser.parse_args(["--corpus", "bc5cdr", "--gold", str(gold), "--model", str(tiny_model_path)])
    assert evaluate.run(args) == 0
    out = capsys.readouterr().out
    assert "exact-string gazetteer" in out or "DictionaryMatcher" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("crf ", "baseline ", "combined "))]
    crf_all = next(r for r in rows if r[0] == "crf" and r[1] == "ALL")
    assert crf_all[-3:] == ["4", "0", "0"]  # tp fp fn
    combined_all = next(r for r in rows if r[0] == "combined" and r[1] == "ALL")
    assert int(combined_all[-3]) + int(combined_all[-1]) == 4
    import mlflow

    mlflow.set_tracking_uri(Settings(home=tmp_path).mlflow_tracking_uri)
    runs = mlflow.search_runs(experiment_names=[evaluate.EXPERIMENT])
    assert runs["metrics.crf.strict.ALL.f1"].tolist() == pytest.approx([1.0], rel=1e-9)


def test_combined_keeps_dictionary_entities_unless_a_model_mention_outgrows_them():
    from notenlp.ner.document import Mention

    text = "heparin for chest pain; rash"
    found = [(0, 7, "DRUG"), (18, 22, "PROBLEM")]
    mentions = [Mention(0, 7, "DRUG", 0.9), Mention(12, 22, "PROBLEM", 0.8), Mention(24, 28, "PROBLEM", 0.7)]
    assert sorted(evaluate.combine(text, found, mentions)) == [(0, 7, "DRUG"), (12, 22, "PROBLEM"), (24, 28, "PROBLEM")]


@pytest.mark.corpora
def test_corpus_dev_parts_read_with_aligned_mentions():
    if corpora_dir() is None:
        pytest.skip(MISSING_MESSAGE)
    docs = evaluate.load_gold("bc5cdr", None)
    assert len(docs) == 500
    assert sum(len(d.mentions) for d in docs) > 9000
    ncbi = evaluate.load_gold("ncbi", None)
    assert len(ncbi) == 100 and all(label == "PROBLEM" for d in ncbi for _, _, label in d.mentions)
