from notenlp.annotate.sections import SectionDetector

NOTE = """CHIEF COMPLAINT: chest pain.
HPI: 65 yo M with CHF.
PMH:
1. Hypertension
Family Hx: Mother with breast cancer.
PHYSICAL EXAM
Gen: NAD.  ASSESSMENT AND PLAN: CHF exacerbation.
Allergies: NKDA
"""


def test_headers_spellings_and_ranges():
    sections = SectionDetector().detect(NOTE)
    assert [(s.name, s.header) for s in sections] == [
        ("chief_complaint", "CHIEF COMPLAINT"),
        ("history_of_present_illness", "HPI"),
        ("past_medical_history", "PMH"),
        ("family_history", "Family Hx"),
        ("physical_exam", "PHYSICAL EXAM"),
        ("assessment_and_plan", "ASSESSMENT AND PLAN"),
        ("allergies", "Allergies"),
    ]
    for current, following in zip(sections, sections[1:]):
        assert current.end == following.start
        assert NOTE[current.start:].startswith(current.header)
    assert sections[-1].end == len(NOTE)


def test_words_that_are_not_headers():
    # "PE" alone is too short for a bare header; lower-case words alone on a line are not headers
    assert SectionDetector().detect("PE\nplan\nHe has a plan: rest.") == []


def test_loinc_codes_kept_in_rules():
    detector = SectionDetector()
    assert detector.loinc["family_history"] == "10157-6"
    assert detector.loinc["history_of_present_illness"] == "10164-2"


# Made-up vocabulary rows: the concept ids are invented for the test, the LOINC codes are the real section codes.
CONCEPT_HEADER = ("concept_id\tconcept_name\tdomain_id\tvocabulary_id\tconcept_class_id\tstandard_concept\t"
                  "concept_code\tvalid_start_date\tvalid_end_date\tinvalid_reason\n")
MADE_UP_ROWS = [
    (900000001, "History of Present illness Narrative", "LOINC", "10164-2", ""),
    (900000002, "Family history Narrative", "LOINC", "10157-6", ""),
    (900000003, "Family history (deprecated copy)", "LOINC", "10157-6", "D"),   # a valid concept wins
    (900000004, "Not a LOINC code", "SNOMED", "11348-0", ""),                     # PMH's code, other vocabulary
]


def write_vocabulary(folder):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{cid}\t{name}\tObservation\t{vocab}\tClinical Observation\tS\t{code}\t19700101\t20991231\t{invalid}\n"
             for cid, name, vocab, code, invalid in MADE_UP_ROWS]
    (folder / "CONCEPT.csv").write_text(CONCEPT_HEADER + "".join(lines), encoding="utf-8")
    return folder


def test_section_concepts_come_from_the_loaded_vocabulary(tmp_path):
    detector = SectionDetector(vocabulary=str(write_vocabulary(tmp_path / "athena")))
    ids = {s.name: s.concept_id for s in detector.detect(NOTE)}
    assert ids["history_of_present_illness"] == 900000001
    assert ids["family_history"] == 900000002
    assert ids["past_medical_history"] == 0        # its code is not a LOINC concept of this vocabulary
    assert ids["chief_complaint"] == 0             # not in the vocabulary at all


def test_section_concepts_from_a_duckdb_warehouse(tmp_path):
    import duckdb

    from notenlp.annotate.section_concepts import loinc_concept_ids

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE concept (concept_id INTEGER, concept_name VARCHAR, vocabulary_id VARCHAR, "
                    "concept_code VARCHAR, invalid_reason VARCHAR)")
        con.executemany("INSERT INTO concept VALUES (?, ?, ?, ?, ?)",
                        [(cid, name, vocab, code, invalid or None) for cid, name, vocab, code, invalid in MADE_UP_ROWS])
    assert loinc_concept_ids(["10164-2", "10157-6", "11348-0", "18776-5"], warehouse) == {
        "10164-2": 900000001, "10157-6": 900000002}


def test_entities_carry_the_section_concept(tmp_path):
    from notenlp.annotate.context import ConText
    from notenlp.doc import Doc, Entity

    text = "HPI: chest pain.\nPMH: asthma."
    doc = SectionDetector(vocabulary=str(write_vocabulary(tmp_path / "athena")))(Doc(text=text))
    doc.entities = [Entity(start=5, end=15, text="chest pain", label="PROBLEM"),
                    Entity(start=22, end=28, text="asthma", label="PROBLEM")]
    doc = ConText()(doc)
    assert [(e.section, e.section_concept_id) for e in doc.entities] == [
        ("history_of_present_illness", 900000001), ("past_medical_history", 0)]


def test_the_demo_vocabulary_holds_no_section_code():
    from notenlp.vocab.loader import DEMO_VOCAB_DIR

    detector = SectionDetector(vocabulary=str(DEMO_VOCAB_DIR))
    assert any(detector.loinc.values())
    assert set(detector.concept_ids.values()) == {0}


def test_guarded_search_finds_what_the_pattern_finds():
    detector = SectionDetector()
    texts = [NOTE, "  hpi : x\n\n\n\tMEDICATIONS\n2) PMH: a. PLAN:\n" + "x  " * 5 + "Impression:y",
             "PLAN: a; ALLERGIES: none.   Medications: b\n\n PHYSICAL EXAM \nHEENT:normal", "", "\n"]
    for text in texts:
        assert ([(m.span(), m.lastgroup) for m in detector._header_matches(text)]
                == [(m.span(), m.lastgroup) for m in detector.pattern.finditer(text)])


def test_section_concepts_remembered_until_the_vocabulary_changes(tmp_path, monkeypatch):
    import os

    from notenlp.annotate.section_concepts import loinc_concept_ids

    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path / "cache"))
    folder = write_vocabulary(tmp_path / "athena")
    codes = ["10164-2", "10157-6", "18776-5"]
    first = loinc_concept_ids(codes, folder)
    assert first == {"10164-2": 900000001, "10157-6": 900000002}
    assert any((tmp_path / "cache" / "section-concepts").iterdir())
    assert loinc_concept_ids(codes, folder) == first  # read from the cache
    concept = folder / "CONCEPT.csv"
    stat = concept.stat()
    with open(concept, "a", encoding="utf-8") as handle:  # a new release adds the plan-of-care code
        handle.write("900000005\tPlan of care note\tObservation\tLOINC\tClinical Observation\tS\t18776-5\t"
                     "19700101\t20991231\t\n")
    os.utime(concept, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert loinc_concept_ids(codes, folder) == {**first, "18776-5": 900000005}


def test_a_warehouse_vocabulary_check_is_remembered_per_file_state(tmp_path, monkeypatch):
    import duckdb

    from notenlp.vocab import loader

    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path / "cache"))
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE other (x INTEGER)")
    asked = []
    real = loader.has_vocabulary
    monkeypatch.setattr(loader, "has_vocabulary", lambda path: asked.append(path) or real(path))
    assert not loader._has_vocabulary_remembered(warehouse) and not loader._has_vocabulary_remembered(warehouse)
    assert len(asked) == 1
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE concept (concept_id INTEGER)")
        con.execute("INSERT INTO concept VALUES (1)")
    assert loader._has_vocabulary_remembered(warehouse) and len(asked) == 2
    assert not loader._has_vocabulary_remembered(tmp_path / "missing.duckdb")
