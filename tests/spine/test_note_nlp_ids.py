"""NOTE_NLP ids fit the official CDM 5.4 integer column and are stable across reruns of a note."""

from __future__ import annotations

import duckdb

from notenlp.warehouse import ensure_schema
from notenlp.warehouse.load import etl_params, load_note_rows

ENTITY_COLUMNS = ("note_nlp_id", "note_id", "section_concept_id", "snippet", "start", "lexical_variant",
                  "concept_id", "source_concept_id", "term_exists", "term_temporal", "term_modifiers")


def _night(con, folder, notes: list[int], hashes: dict[int, list[int]], relations: list[tuple]) -> dict:
    folder.mkdir()
    paths = {k: str(folder / f"{k}.parquet") for k in ("notes", "entities", "relations")}
    con.execute(f"copy (select unnest($n)::bigint as note_id, 'x' as note_text) to '{paths['notes']}' "
                "(format parquet)",
                {"n": notes})
    rows = [(h, note_id, 0, "s", i, "x", 0, 0, "Y", "present", "label=PROBLEM", "PROBLEM", i + 1)
            for note_id, keys in hashes.items() for i, h in enumerate(keys)]
    values = ", ".join(f"({h}::bigint, {n}::bigint, {sc}, '{s}', {i}, '{x}', {c}, {sc2}, '{e}', '{t}', '{m}', "
                       f"'{label}', {end})" for h, n, sc, s, i, x, c, sc2, e, t, m, label, end in rows)
    con.execute(f"copy (select * from (values {values}) as t({', '.join(ENTITY_COLUMNS)}, label, \"end\")) "
                f"to '{paths['entities']}' (format parquet)")
    rel = ", ".join(f"({k}::bigint, {n}::bigint, {a}::bigint, {b}::bigint, 'treats', 1.0::double)"
                    for k, (n, a, b) in enumerate(relations, 100 * notes[0]))
    con.execute(f"copy (select * from (values {rel}) as t(note_nlp_relation_id, note_id, note_nlp_id_1, "
                f"note_nlp_id_2, relationship, score)) to '{paths['relations']}' (format parquet)")
    return etl_params({**paths, "nlp_system": "test", "nlp_date": "2026-12-01",
                       "nlp_datetime": "2026-12-01 01:00:00"})


def _load(con, params) -> None:
    load_note_rows(con, params, has_entities=True, has_relations=True)


def test_dense_ids_are_stable_across_reruns_and_fit_32_bits(tmp_path):
    big = [2**62 + 5, 2**62 + 1, 2**61 + 7]  # the stage's 63-bit hashes
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    first = _night(con, tmp_path / "n1", [1, 2], {1: big[:2], 2: big[2:]}, [(1, big[0], big[1])])
    _load(con, first)
    ids = dict(con.execute('select "offset"::integer + 10 * note_id::integer, note_nlp_id from note_nlp').fetchall())
    assert sorted(ids.values()) == [1, 2, 3]
    assert con.execute("select note_nlp_id_1, note_nlp_id_2 from note_nlp_relation").fetchall() == [(ids[10], ids[11])]
    _load(con, first)  # the same night again: the same ids, no new rows
    assert dict(con.execute('select "offset"::integer + 10 * note_id::integer, note_nlp_id from note_nlp')
                .fetchall()) == ids
    second = _night(con, tmp_path / "n2", [2, 3], {2: big[2:], 3: [2**62 + 9, 2**62 + 3]}, [(3, 2**62 + 9, 2**62 + 3)])
    _load(con, second)  # note 2 again with note 3: note 2 keeps its id, the new mentions get the next ones
    assert con.execute("select note_nlp_id from note_nlp where note_id = 2").fetchall() == [(ids[20],)]
    assert con.execute("select note_nlp_id from note_nlp where note_id = 3 order by 1").fetchall() == [(4,), (5,)]
    assert con.execute("select note_nlp_id_1, note_nlp_id_2 from note_nlp_relation where note_id = 3").fetchall() \
        == [(5, 4)]  # the hash 2**62 + 3 sorts first, so it was issued 4
    assert con.execute("select max(note_nlp_id) < 2147483648, count(*) from note_nlp").fetchone() == (True, 5)
