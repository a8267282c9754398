"""Write the shipped demo vocabulary (Athena format) from the Synthea27Nj OMOP CDM 5.4 zip.

Reads ``omop/Synthea27Nj_5.4.zip`` (OHDSI/EunomiaDatasets, Apache-2.0; vocabulary terms under
their owners' terms) from the public corpora folder and writes gzipped, tab-separated files
in Athena's column order with ``YYYYMMDD`` dates to ``src/notenlp/resources/demo_vocab/``:
every CONCEPT row, the CONCEPT_RELATIONSHIP rows of ``KEPT_RELATIONSHIPS`` whose two concepts
are both in CONCEPT, CONCEPT_ANCESTOR derived from those 'Is a' and 'Has tradename' rows (the zip's own
is empty; see ``ANCESTRY_SQL``), and the other vocabulary tables as the zip has them (several are empty there, so
their files hold only the header).

Usage: ``python scripts/build_demo_vocab.py [--zip PATH] [--out DIR]``
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import zipfile
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from notenlp.corpora import MISSING_MESSAGE, corpus_path  # noqa: E402
from notenlp.vocab.loader import ATHENA_TABLES, ddl_tables  # noqa: E402

KEPT_RELATIONSHIPS = (
    "Maps to", "Mapped from", "Is a", "Subsumes", "Concept replaced by", "Concept replaces",
    "Has ingredient", "RxNorm has ing", "RxNorm ing of", "Ingredient of", "Has dose form", "RxNorm has dose form",
    "Has tradename", "Tradename of", "Maps to value", "Value mapped from",
)


# CONCEPT_ANCESTOR the way the OHDSI vocabulary build defines it, over the rows we ship: the transitive
# closure of the hierarchical relationships that define ancestry ('Is a': child concept_id_1, parent
# concept_id_2; RxNorm 'Has tradename': clinical drug concept_id_1 above its branded drug concept_id_2)
# between valid standard (or classification) concepts, one row per (ancestor, descendant) with the shortest
# and longest path, plus a level-0 row per standard concept for itself, so that "a concept or any
# descendant" is one join.
ANCESTRY_SQL = """
with recursive concepts as (
    select cast(concept_id as integer) as concept_id
    from read_csv($concept, header=true, all_varchar=true)
    where standard_concept in ('S', 'C') and coalesce(invalid_reason, '') = ''
),

relationships as (
    select cast(concept_id_1 as integer) as concept_id_1, cast(concept_id_2 as integer) as concept_id_2,
        relationship_id
    from read_csv($relationship, header=true, all_varchar=true)
    where relationship_id in ('Is a', 'Has tradename') and coalesce(invalid_reason, '') = ''
),

edges as (
    select distinct
        case when relationship_id = 'Is a' then concept_id_1 else concept_id_2 end as descendant_concept_id,
        case when relationship_id = 'Is a' then concept_id_2 else concept_id_1 end as ancestor_concept_id
    from relationships
    where concept_id_1 in (select concept_id from concepts)
        and concept_id_2 in (select concept_id from concepts)
        and concept_id_1 <> concept_id_2
),

paths (ancestor_concept_id, descendant_concept_id, levels) as (
    select concept_id, concept_id, 0 from concepts
    union all
    select edges.ancestor_concept_id, paths.descendant_concept_id, paths.levels + 1
    from paths
    inner join edges on edges.descendant_concept_id = paths.ancestor_concept_id
    where paths.levels < 50
),

final as (
    select ancestor_concept_id, descendant_concept_id,
        min(levels) as min_levels_of_separation, max(levels) as max_levels_of_separation
    from paths
    group by ancestor_concept_id, descendant_concept_id
)

select * from final
"""


def write_ancestry(con: duckdb.DuckDBPyConnection, concept: Path, relationship: Path, out: Path) -> int:
    """CONCEPT_ANCESTOR.csv.gz from the CONCEPT and hierarchical CONCEPT_RELATIONSHIP rows (``ANCESTRY_SQL``)."""
    rows = con.execute(ANCESTRY_SQL + " order by 1, 2", {"concept": str(concept),
                                                          "relationship": str(relationship)}).fetchall()
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        handle.write("ancestor_concept_id\tdescendant_concept_id\tmin_levels_of_separation\t"
                     "max_levels_of_separation\n")
        for row in rows:
            handle.write("\t".join(str(value) for value in row) + "\n")
    return len(rows)


def write_table(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]], source: Path,
                out: Path, where: str = "") -> int:
    select = []
    for name, ctype in columns:
        if ctype == "date":
            select.append(f"strftime(CAST({name} AS DATE), '%Y%m%d')")
        elif ctype == "double":
            select.append(f"CAST({name} AS DOUBLE)")
        else:
            select.append(f"CAST({name} AS VARCHAR)")
    rows = con.execute(
        f"SELECT {', '.join(select)} FROM read_csv(?, header=true, all_varchar=true) {where} ORDER BY 1, 2",
        [str(source)],
    ).fetchall()
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        handle.write("\t".join(name for name, _ in columns) + "\n")
        for row in rows:
            handle.write("\t".join("" if value is None else _clean(value) for value in row) + "\n")
    return len(rows)


def _clean(value: object) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace("\t", " ").replace("\n", " ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zip", type=Path, default=None, help="Synthea27Nj_5.4.zip (default: from the corpora folder)")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "notenlp" / "resources" / "demo_vocab")
    args = parser.parse_args(argv)
    source_zip = args.zip or corpus_path("omop", "Synthea27Nj_5.4.zip")
    if source_zip is None:
        print(MISSING_MESSAGE, file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    schema = ddl_tables()
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(source_zip) as archive:
        for table in ATHENA_TABLES:
            member = f"{table.upper()}.csv"
            archive.extract(member, tmp)
        concept = Path(tmp) / "CONCEPT.csv"
        kept = ", ".join(f"'{r}'" for r in KEPT_RELATIONSHIPS)
        where = {
            "concept_relationship": (
                f"WHERE relationship_id IN ({kept}) "
                f"AND concept_id_1 IN (SELECT concept_id FROM read_csv('{concept}', header=true, all_varchar=true)) "
                f"AND concept_id_2 IN (SELECT concept_id FROM read_csv('{concept}', header=true, all_varchar=true))"
            ),
        }
        for table in ATHENA_TABLES:
            out = args.out / f"{table.upper()}.csv.gz"
            if table == "concept_ancestor":
                count = write_ancestry(con, concept, Path(tmp) / "CONCEPT_RELATIONSHIP.csv", out)
            else:
                count = write_table(con, table, schema[table], Path(tmp) / f"{table.upper()}.csv", out,
                                    where.get(table, ""))
            print(f"{table:22s} {count:8d} rows  {out.stat().st_size:9d} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
