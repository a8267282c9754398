"""``notenlp cohort list|refresh|show NAME``: the cohort definitions of ``sql/cohorts/`` and their rows."""

from __future__ import annotations

import argparse
from datetime import date

from notenlp.config import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "refresh", "show"),
                        help="list: every definition and its members in the warehouse; refresh: rebuild note_fact, "
                        "patient_summary and every cohort; show NAME: one definition, its SQL and members")
    parser.add_argument("name", nargs="?", help="the cohort (file name without .json) for show")
    parser.add_argument("--home", help="folder holding warehouse/ (NOTENLP_HOME)")
    parser.add_argument("--run-date", type=date.fromisoformat, default=date.today(),
                        help="refresh: the night, written as cohort_initiation_date (default: today)")


def _members_by_id(settings) -> dict[int, int]:
    from notenlp.warehouse import connect

    if not settings.warehouse.exists():
        return {}
    with connect(settings.warehouse, read_only=True) as con:
        if con.execute("select count(*) from information_schema.tables "
                       "where table_name in ('cohort', 'cohort_definition')").fetchone()[0] < 2:
            return {}
        return dict(con.execute(  # a refreshed cohort without members has its definition row: 0, not '-'
            "select d.cohort_definition_id, count(c.subject_id) from cohort_definition as d "
            "left join cohort as c on c.cohort_definition_id = d.cohort_definition_id group by 1").fetchall())


def run(args: argparse.Namespace) -> int:
    from notenlp import cohorts
    from notenlp.config import Settings

    settings = Settings.from_env(home=args.home)
    if args.action == "refresh":
        counts = cohorts.refresh_warehouse(settings.warehouse, args.run_date)
        for name, n in counts.items():
            print(f"{name:<32} {n:>6} persons")
        return 0
    if args.action == "list":
        members = _members_by_id(settings)
        for d in cohorts.load_definitions():
            n = members.get(d.cohort_definition_id)
            print(f"{d.cohort_definition_id:>4}  {d.name:<32} {'-' if n is None else n:>6} persons  {d.description}")
        return 0
    if not args.name:
        raise ConfigError("notenlp cohort show needs a cohort NAME (notenlp cohort list shows them)")
    d = cohorts.definition(args.name)
    members = _members_by_id(settings).get(d.cohort_definition_id)
    print(f"cohort {d.name} (cohort_definition_id {d.cohort_definition_id}): {d.description}")
    print(f"members in {settings.warehouse}: {'not refreshed yet' if members is None else members}")
    print(d.syntax())
    return 0
