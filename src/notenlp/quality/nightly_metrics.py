"""What the nightly report measures, read from the DuckDB warehouse (counts and rates only, no text).

``night_metrics`` gives the headline metrics of one night; ``drift`` compares a night with the
7 nights before it: a metric further than 3 standard deviations from their mean is flagged.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date

DRIFT_NIGHTS = 7
DRIFT_SIGMAS = 3.0
MIN_HISTORY = 3  # nights of history needed before drift is judged at all

METRICS: dict[str, str] = {  # name -> label shown in the report
    "notes_processed": "Notes processed",
    "entities": "NOTE_NLP rows",
    "entities_per_note": "Entities per note",
    "standard_concept_share": "Share with a standard concept",
    "negated_share": "Share with term_exists = N",
    "past_share": "Share with term_temporal = past",
    "phi_per_note": "PHI spans per note",
    "quarantined": "Rows quarantined",
    "stage_seconds": "Stage time (s)",
}


def tables(con) -> set[str]:
    return {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}


def columns(con, table: str) -> set[str]:
    return {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_name = $t", {"t": table}).fetchall()}


def run_dates(con) -> list[date]:
    """Every night the warehouse knows of (from the run log and NOTE_NLP)."""
    present = tables(con)
    parts = []
    if "notenlp_run_log" in present:
        parts.append("select run_date from notenlp_run_log")
    if "note_nlp" in present:
        parts.append("select nlp_date as run_date from note_nlp")
    if not parts:
        return []
    return [r[0] for r in con.execute(f"select distinct run_date from ({' union '.join(parts)}) order by 1").fetchall()]


def _scalar(con, sql: str, params: dict) -> float | None:
    value = con.execute(sql, params).fetchone()[0]
    return None if value is None else float(value)


def night_metrics(con, run_date: date) -> dict[str, float | None]:
    present = tables(con)
    p = {"d": run_date}
    m: dict[str, float | None] = dict.fromkeys(METRICS)
    notes = None
    if "notenlp_run_log" in present:
        notes = _scalar(con, "select max(rows_out) from notenlp_run_log "
                             "where run_date = $d and stage = 'deidentify'", p)
        m["stage_seconds"] = _scalar(con, "select sum(epoch(finished_at) - epoch(started_at)) from notenlp_run_log "
                                          "where run_date = $d", p)
    if "note_nlp" in present:
        if notes is None:
            notes = _scalar(con, "select count(distinct note_id) from note_nlp where nlp_date = $d", p)
        m["entities"] = _scalar(con, "select count(*) from note_nlp where nlp_date = $d", p)
        shares = con.execute(
            "select avg((term_exists = 'N')::int), avg((term_temporal = 'past')::int) from note_nlp "
            "where nlp_date = $d", p).fetchone()
        m["negated_share"], m["past_share"] = shares
        if "concept" in present:
            m["standard_concept_share"] = _scalar(
                con, "select avg(coalesce(c.standard_concept = 'S' and c.invalid_reason is null, false)::int) "
                     "from note_nlp n left join concept c on c.concept_id = n.note_nlp_concept_id "
                     "where n.nlp_date = $d", p)
    m["notes_processed"] = notes
    if notes:
        m["entities_per_note"] = (m["entities"] or 0.0) / notes
    if "notenlp_phi_summary" in present and notes:
        m["phi_per_note"] = (_scalar(con, "select sum(n) from notenlp_phi_summary where run_date = $d", p) or 0) / notes
    if "notenlp_quarantine" in present:
        m["quarantined"] = _scalar(con, "select count(*) from notenlp_quarantine where run_date = $d", p)
    return m


@dataclass
class Drift:
    metric: str
    value: float | None
    mean: float | None
    std: float | None
    nights: int  # nights of history used
    z: float | None
    flagged: bool
    history: list[tuple[date, float]]


def drift(con, run_date: date, *, nights: int = DRIFT_NIGHTS, sigmas: float = DRIFT_SIGMAS) -> list[Drift]:
    """Tonight's metrics beside the mean and standard deviation of the previous ``nights`` nights."""
    earlier = [d for d in run_dates(con) if d < run_date][-nights:]
    history = {d: night_metrics(con, d) for d in earlier}
    tonight = night_metrics(con, run_date)
    out = []
    for metric in METRICS:
        past = [(d, history[d][metric]) for d in earlier if history[d][metric] is not None]
        values = [v for _, v in past]
        value = tonight[metric]
        mean = statistics.fmean(values) if values else None
        std = statistics.stdev(values) if len(values) >= 2 else None
        z = None
        flagged = False
        if value is not None and mean is not None and std is not None and len(values) >= MIN_HISTORY:
            if std > 0:
                z = (value - mean) / std
                flagged = abs(z) > sigmas
            elif not math.isclose(value, mean, rel_tol=1e-9, abs_tol=1e-12):
                z = math.copysign(math.inf, value - mean)  # any move away from a constant history
                flagged = True
        out.append(Drift(metric, value, mean, std, len(values), z, flagged, past))
    return out
