from notenlp.ner.corpora import BC5CDR_LABELS, NCBI_LABELS, non_overlapping, read_ade, read_pubtator
from notenlp.ner.tokenize import split_sentences, tokenize


def test_tokens_keep_offsets_and_split_hyphens_and_brackets():
    text = "Binding of [3H]-naloxone (8 nM) was\tnot 5-HT2-mediated."
    tokens = tokenize(text)
    assert [t[0] for t in tokens] == ["Binding", "of", "[", "3H", "]", "-", "naloxone", "(", "8", "nM", ")", "was",
                                      "not", "5", "-", "HT2", "-", "mediated", "."]
    assert all(text[s:e] == word for word, s, e in tokens)


def test_tokenize_a_window_keeps_document_offsets():
    text = "First part. Second part here."
    tokens = tokenize(text, 12, 23)
    assert tokens == [("Second", 12, 18), ("part", 19, 23)]


def test_sentences_do_not_cut_through_a_mention():
    text = "Treated with Dr. Smith's regimen. Then fever. Stop."
    assert [text[s:e] for s, e in split_sentences(text)] == ["Treated with Dr.", "Smith's regimen.", "Then fever.", "Stop."]
    spans = split_sentences(text, keep_together=[(13, 22)])
    assert [text[s:e] for s, e in spans] == ["Treated with Dr. Smith's regimen.", "Then fever.", "Stop."]


def test_pubtator_reader(tmp_path):
    title = "Naloxone reverses the effect of clonidine."
    abstract = "Clonidine caused hypotension in rats."
    path = tmp_path / "c.txt"
    offset = len(title) + 1
    path.write_text(
        f"123|t|{title}\n123|a|{abstract}\n"
        f"123\t0\t8\tNaloxone\tChemical\tD009270\n"
        f"123\t{offset}\t{offset + 9}\tClonidine\tChemical\tD003000\n"
        f"123\t{offset + 17}\t{offset + 28}\thypotension\tDisease\tD007022\n"
        f"123\tCID\tD003000\tD007022\n\n"
        f"456|t|Ataxia telangiectasia.\n456|a|Rare.\n456\t0\t21\tAtaxia telangiectasia\tSpecificDisease\tD001260\n",
        encoding="utf-8",
    )
    docs = read_pubtator(path, BC5CDR_LABELS)
    assert docs[0].text == f"{title} {abstract}"
    assert [(docs[0].text[s:e], label) for s, e, label in docs[0].mentions] == [
        ("Naloxone", "DRUG"), ("Clonidine", "DRUG"), ("hypotension", "PROBLEM")]
    assert docs[1].mentions == []  # SpecificDisease is not a BC5CDR type
    ncbi = read_pubtator(path, NCBI_LABELS)
    assert ncbi[1].mentions == [(0, 21, "PROBLEM")]


def test_ade_reader_places_mentions_in_the_sentence(tmp_path):
    (tmp_path / "DRUG-AE.rel").write_text(
        "1|Intravenous azithromycin-induced ototoxicity.|ototoxicity|43|54|azithromycin|22|34\n", encoding="utf-8")
    (tmp_path / "DRUG-DOSE.rel").write_text("", encoding="utf-8")
    (tmp_path / "ADE-NEG.txt").write_text("2 NEG Nothing happened.\n", encoding="utf-8")
    docs = read_ade(tmp_path)
    assert len(docs) == 1
    assert sorted((docs[0].text[s:e], label) for s, e, label in docs[0].mentions) == [
        ("azithromycin", "DRUG"), ("ototoxicity", "PROBLEM")]
    assert len(read_ade(tmp_path, include_negative=True)) == 2


def test_nested_mentions_keep_the_longest():
    assert non_overlapping([(0, 10, "PROBLEM"), (0, 4, "PROBLEM"), (12, 15, "DRUG")]) == [(0, 10, "PROBLEM"), (12, 15, "DRUG")]
