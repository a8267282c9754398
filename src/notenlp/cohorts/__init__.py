"""Cohorts as data: definitions under ``sql/cohorts/`` refreshed into OMOP CDM 5.4 COHORT / COHORT_DEFINITION.

A definition is a small JSON file ``sql/cohorts/<name>.json``::

    {"cohort_definition_id": 1, "description": "...", "template": "affirmed_condition_patients.sql",
     "parameters": {"ancestor_concept_id": 432867, "within_days": 365}}

``template`` names a SQL file beside it whose ``$parameters`` the definition gives (every one, and no
other) and which returns ``person_id, cohort_start_date, cohort_end_date``. The templates read the
``note_fact`` view, ``note_nlp_relation`` and ``concept_ancestor``.

A definition may instead name an ATLAS cohort expression, ``{"cohort_definition_id": 101, "atlas":
"atlas/<file>.json"}``: OHDSI's Python Circe (``ohdsi-circepy``) compiles it to OHDSI SQL and its SqlRender
port translates that to DuckDB. Circe's criteria read the structured CDM tables (condition_occurrence,
drug_exposure, observation_period, ...) that a site keeps beside NOTE_NLP; it has no criterion on
NOTE_NLP (assertion, temporality, section, relations), which is what the templates are for.

``refresh`` first rebuilds what the cohorts read and what users query beside them (the ``note_fact`` view,
the ``patient_summary`` table), then replaces every defined cohort's COHORT rows and its COHORT_DEFINITION
row, all in one transaction: the same warehouse refreshed twice gives the same rows, and a cohort that
shrinks loses its rows. Cohort ids whose definition file is gone are left as they are (a site may keep
cohorts of its own in the same table).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from notenlp.config import ConfigError
from notenlp.warehouse import SQL_DIR, connect, run_sql_file

log = logging.getLogger(__name__)

COHORT_DIR = SQL_DIR / "cohorts"
# No OMOP concept names "a cohort defined by a query over NOTE_NLP" or the person domain in the demo
# vocabulary: 0, the CDM's "no matching concept", in both NOT NULL columns.
DEFINITION_TYPE_CONCEPT_ID = 0
SUBJECT_CONCEPT_ID = 0
_PARAM = re.compile(r"\$([a-z_]+)")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class CohortDefinition:
    name: str
    cohort_definition_id: int
    description: str
    template: str  # a SQL template beside the definition, or an ATLAS expression (atlas/<file>.json)
    parameters: dict[str, Any]
    path: Path
    atlas: bool = False

    def sql(self) -> str:
        return (self.path.parent / self.template).read_text(encoding="utf-8")

    def syntax(self) -> str:
        """What COHORT_DEFINITION.cohort_definition_syntax holds: the ATLAS JSON, or the parameters and template."""
        if self.atlas:
            return self.sql()
        return f"-- {self.template} with parameters {json.dumps(self.parameters, sort_keys=True)}\n{self.sql()}"

    def atlas_statements(self) -> list[str]:
        """The ATLAS expression as DuckDB statements that replace this id's rows of ``cohort`` (Circe's SQL)."""
        from circe.api import build_cohort_query, cohort_expression_from_json
        from circe.cohortdefinition import BuildExpressionQueryOptions
        from circe.sqlrender import render, split_sql, translate

        try:
            expression = cohort_expression_from_json(self.sql())
        except Exception as exc:  # Circe's own parse error: the class and its first line
            raise ConfigError(f"cohort definition {self.path.name}: {self.template} is not an ATLAS cohort "
                              f"expression ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None
        options = BuildExpressionQueryOptions()
        options.cdm_schema = options.vocabulary_schema = "main"
        options.cohort_id = self.cohort_definition_id
        options.target_table = "main.cohort"
        sql = render(build_cohort_query(expression, options), cdm_database_schema="main",
                     vocabulary_database_schema="main", target_database_schema="main", target_cohort_table="cohort",
                     target_cohort_id=str(self.cohort_definition_id))
        return [s for s in split_sql(translate(sql, "duckdb")) if s.strip()]


def _definition(path: Path) -> CohortDefinition:
    where = path.name
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"cohort definition {where}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"cohort definition {where}: a JSON object is expected")
    unknown = set(raw) - {"cohort_definition_id", "description", "template", "parameters", "atlas"}
    if unknown:
        raise ConfigError(f"cohort definition {where}: unknown keys {sorted(unknown)}")
    if not _NAME.match(path.stem):
        raise ConfigError(f"cohort definition {where}: the file name must be lowercase letters, digits and _")
    cohort_id = raw.get("cohort_definition_id")
    if not isinstance(cohort_id, int) or isinstance(cohort_id, bool) or not 0 < cohort_id < 2**31:
        raise ConfigError(f"cohort definition {where}: cohort_definition_id must be a positive 32-bit integer")
    if "atlas" in raw:
        atlas = raw["atlas"]
        if "template" in raw or "parameters" in raw or not isinstance(atlas, str) or \
                not re.fullmatch(r"atlas/[A-Za-z0-9_.-]+\.json", atlas) or not (path.parent / atlas).is_file():
            raise ConfigError(f"cohort definition {where}: atlas must name a file atlas/<name>.json beside it, "
                              "without template or parameters")
        return CohortDefinition(path.stem, cohort_id, str(raw.get("description") or ""), atlas, {}, path, atlas=True)
    template = raw.get("template")
    if not isinstance(template, str) or "/" in template or not (path.parent / template).is_file():
        raise ConfigError(f"cohort definition {where}: template {template!r} is not a SQL file in {path.parent.name}/")
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, dict) or not all(
            isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in parameters.values()):
        raise ConfigError(f"cohort definition {where}: parameters must map names to numbers or strings")
    definition = CohortDefinition(path.stem, cohort_id, str(raw.get("description") or ""), template, parameters, path)
    used = set(_PARAM.findall(definition.sql()))
    if used != set(parameters):
        missing, extra = sorted(used - set(parameters)), sorted(set(parameters) - used)
        raise ConfigError(f"cohort definition {where}: parameters missing {missing}, not in the template {extra}")
    return definition


def load_definitions(folder: Path = COHORT_DIR) -> list[CohortDefinition]:
    """Every ``*.json`` definition of ``folder``, by name; a broken one raises ConfigError naming its file."""
    definitions = [_definition(path) for path in sorted(Path(folder).glob("*.json"))]
    seen: dict[int, str] = {}
    for d in definitions:
        if d.cohort_definition_id in seen:
            raise ConfigError(f"cohort definitions {seen[d.cohort_definition_id]} and {d.name} share "
                              f"cohort_definition_id {d.cohort_definition_id}")
        seen[d.cohort_definition_id] = d.name
    return definitions


def definition(name: str, folder: Path = COHORT_DIR) -> CohortDefinition:
    for d in load_definitions(folder):
        if d.name == name:
            return d
    raise ConfigError(f"no cohort {name!r} in {folder} (notenlp cohort list shows them)")


def ensure_tables(con) -> None:
    """COHORT, COHORT_DEFINITION, PATIENT_SUMMARY and the NOTE_FACT view, with whatever they read."""
    from notenlp.vocab.loader import ddl_tables, ensure_concept_table
    from notenlp.warehouse import ensure_schema

    ensure_schema(con)
    ensure_concept_table(con)
    ancestor = ", ".join(f"{name} {ctype}" for name, ctype in ddl_tables()["concept_ancestor"])
    con.execute(f"create table if not exists concept_ancestor ({ancestor})")
    for name in ("ddl/cohort.sql", "ddl/patient_summary.sql", "ddl/note_fact.sql"):
        run_sql_file(con, name)


def refresh(con, definitions: list[CohortDefinition], initiation_date: date) -> dict[str, int]:
    """Rebuild note_fact and patient_summary, then replace each cohort's rows; returns members per cohort."""
    ensure_tables(con)
    counts: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        run_sql_file(con, "ddl/note_fact.sql")
        run_sql_file(con, "etl/insert_patient_summary.sql")
        for cohort in definitions:
            cohort_id = cohort.cohort_definition_id
            con.execute("delete from cohort where cohort_definition_id = $id", {"id": cohort_id})
            con.execute("delete from cohort_definition where cohort_definition_id = $id", {"id": cohort_id})
            if cohort.atlas:
                for statement in cohort.atlas_statements():
                    con.execute(statement)
            else:
                con.execute(
                    "insert into cohort (cohort_definition_id, subject_id, cohort_start_date, cohort_end_date) "
                    f"select {cohort_id}, person_id, cohort_start_date, cohort_end_date from (\n{cohort.sql()}\n)",
                    cohort.parameters)
            con.execute(
                "insert into cohort_definition (cohort_definition_id, cohort_definition_name, "
                "cohort_definition_description, definition_type_concept_id, cohort_definition_syntax, "
                "subject_concept_id, cohort_initiation_date) values ($id, $name, $description, $type, $syntax, "
                "$subject, $initiated)",
                {"id": cohort_id, "name": cohort.name, "description": cohort.description,
                 "type": DEFINITION_TYPE_CONCEPT_ID, "syntax": cohort.syntax(), "subject": SUBJECT_CONCEPT_ID,
                 "initiated": initiation_date})
            counts[cohort.name] = con.execute("select count(*) from cohort where cohort_definition_id = $id",
                                              {"id": cohort_id}).fetchone()[0]
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return counts


def refresh_warehouse(warehouse: str | Path, initiation_date: date, folder: Path = COHORT_DIR) -> dict[str, int]:
    """``refresh`` on the warehouse file with every definition of ``folder`` (the nightly refresh_cohorts task)."""
    definitions = load_definitions(folder)
    with connect(warehouse) as con:
        counts = refresh(con, definitions, initiation_date)
        summary = con.execute("select count(*) from patient_summary").fetchone()[0]
    log.info("refreshed %d cohorts (%s) and %d patient_summary rows in %s", len(counts),
             ", ".join(f"{name} {n}" for name, n in counts.items()), summary, warehouse)
    return counts
