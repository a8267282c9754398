"""``notenlp report``: one self-contained HTML data-quality page per night, from the warehouse (DuckDB, or
PostgreSQL with ``NOTENLP_WAREHOUSE_URL``: the nights shown are copied into DuckDB and the same SQL runs).

The page has no external assets: plots are inline SVG drawn with matplotlib, styles are inline.
It shows counts and rates only (concept names come from CONCEPT); no note text, no PHI values.
Sections: headline metrics, drift against the last 7 nights (beyond 3 standard deviations is
flagged in red), entities per note, assertion mix, top concepts, PHI found by type, stage timings
and quarantined rows by reason.
"""

from __future__ import annotations

import argparse
import html
import io
import logging
import math
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from notenlp.quality.nightly_metrics import (
    DRIFT_NIGHTS,
    DRIFT_SIGMAS,
    METRICS,
    Drift,
    columns,
    drift,
    night_metrics,
    run_dates,
    tables,
)

log = logging.getLogger(__name__)
TOP_CONCEPTS = 20
MODIFIER_FLAGS = ("negated", "possible", "hypothetical", "conditional", "historical")
# What the page reads, by warehouse table: the columns (None: all) of the nights it shows. A PostgreSQL
# warehouse copies just these into DuckDB (notenlp.warehouse.postgres.nights_in_duckdb).
REPORT_READS: dict[str, tuple[str, ...] | None] = {
    "note_nlp": ("note_id", "note_nlp_concept_id", "nlp_system", "nlp_date", "term_exists", "term_temporal",
                 "term_modifiers"),
    "concept": ("concept_id", "concept_name", "domain_id", "vocabulary_id", "standard_concept", "invalid_reason"),
    "notenlp_run_log": None,
    "notenlp_quarantine": None,
    "notenlp_phi_summary": None,
}
RED = "#c62828"
BLUE = "#1f5f99"

STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;
color:#222}
h1{font-size:26px;margin-bottom:4px}h2{font-size:19px;border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:32px}
.sub{color:#666;margin-top:0}.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.tile .v{font-size:22px;font-weight:600}.tile .k{color:#666;font-size:12px}
.tile.drift{border-color:#c62828;background:#fdecea}
table{border-collapse:collapse;margin:8px 0;font-size:14px}th,td{border:1px solid #ddd;padding:4px 10px;text-align:left}
th{background:#f3f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.drift td{color:#c62828;font-weight:600;background:#fdecea}.flag{color:#c62828;font-weight:700}
.ok{color:#2e7d32}.empty{color:#888;font-style:italic}.plots{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, help="DuckDB warehouse (default: the PostgreSQL warehouse when "
                        "NOTENLP_WAREHOUSE_URL is set, else NOTENLP_WAREHOUSE or <home>/warehouse/notenlp.duckdb)")
    parser.add_argument("--run-date", type=date.fromisoformat,
                        help="the night to report, YYYY-MM-DD (default: the latest night in the warehouse)")
    parser.add_argument("--out", type=Path,
                        help="output HTML file or folder (default: reports/notenlp-report-<run_date>.html)")


def run(args: argparse.Namespace) -> int:
    from notenlp.config import Settings

    settings = Settings.from_env()
    out = args.out or Path("reports")
    if settings.on_postgres and not args.warehouse:
        try:
            path = write_postgres_report(settings, args.run_date, out)
        except ValueError as exc:  # no night yet
            log.error("%s: run `notenlp nightly` first", exc)
            return 1
        print(path)
        return 0
    warehouse = Path(args.warehouse or settings.warehouse)
    if not warehouse.exists():
        log.error("no warehouse at %s: run `notenlp nightly` first", warehouse)
        return 1
    path = write_report(warehouse, args.run_date, out)
    print(path)
    return 0


def report_path(out: Path, run_date: date) -> Path:
    out = Path(out)
    return out if out.suffix.lower() in {".html", ".htm"} else out / f"notenlp-report-{run_date.isoformat()}.html"


def write_report(warehouse: str | Path, run_date: date | str | None, out: str | Path) -> Path:
    """Render the night's report from ``warehouse`` into ``out`` (a file, or a folder for the default name)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        run_date = _night(run_dates(con), run_date, warehouse)
        page = render(con, run_date)
    return _write(page, run_date, out)


def write_postgres_report(settings, run_date: date | str | None, out: str | Path) -> Path:
    """The same page from a PostgreSQL warehouse (``NOTENLP_WAREHOUSE_URL``): the rows of the night and of the
    nights its drift compares with are copied into an in-memory DuckDB, where ``render`` runs unchanged."""
    from notenlp.config import redacted_url
    from notenlp.warehouse import postgres

    known = postgres.night_dates(settings)
    run_date = _night(known, run_date, f"{redacted_url(settings.warehouse_url)} schema {settings.results_schema}")
    shown = [d for d in known if d <= run_date][-(DRIFT_NIGHTS + 1):]
    with postgres.nights_in_duckdb(settings, REPORT_READS, shown) as con:
        page = render(con, run_date)
    return _write(page, run_date, out)


def write_night_report(settings, run_date: date, out: str | Path) -> Path:
    """The night's report from whichever warehouse ``settings`` names."""
    if settings.on_postgres:
        return write_postgres_report(settings, run_date, out)
    return write_report(settings.warehouse, run_date, out)


def _night(known: list[date], run_date: date | str | None, where: object) -> date:
    """The night to report: ``run_date``, or the latest ``known`` one."""
    if run_date is None:
        if not known:
            raise ValueError(f"the warehouse {where} holds no night yet")
        return known[-1]
    return date.fromisoformat(run_date) if isinstance(run_date, str) else run_date


def _write(page: str, run_date: date, out: str | Path) -> Path:
    path = report_path(Path(out), run_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    log.info("report for %s: %s", run_date, path)
    return path


# ------------------------------------------------------------------------------------------ rendering
def _fmt(value: float | None, metric: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if metric.endswith("_share"):
        return f"{value:.1%}"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] = frozenset(),
           row_class: list[str] | None = None) -> str:
    if not rows:
        return '<p class="empty">No rows for this night.</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_class[i]}"' if row_class and row_class[i] else ""
        cells = "".join(f'<td class="n">{html.escape(str(v))}</td>' if j in numeric
                        else f"<td>{html.escape(str(v))}</td>" for j, v in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})  # same rows, same bytes
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _pyplot():
    """pyplot with the page's style, set before every figure (the drift grid is drawn first: a style set only
    by ``_figure`` made a process's first page differ from its later ones)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "path", "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "svg.hashsalt": "notenlp"})
    return plt


def _figure(width: float = 5.2, height: float = 2.8):
    return _pyplot().subplots(figsize=(width, height))


def _bar_svg(labels: list[str], values: list[float], title: str, color: str = BLUE, horizontal: bool = False) -> str:
    if not labels:
        return ""
    fig, ax = _figure(5.2, max(2.2, 0.28 * len(labels) + 0.8) if horizontal else 2.8)
    if horizontal:
        ax.barh(labels[::-1], values[::-1], color=color)
    else:
        ax.bar(labels, values, color=color)
        ax.tick_params(axis="x", labelrotation=30)
    ax.set_title(title)
    return _svg(fig)


def _drift_svg(rows: list[Drift], run_date: date) -> str:
    shown = [r for r in rows if r.value is not None]
    if not shown:
        return ""
    ncols = 3
    nrows = math.ceil(len(shown) / ncols)
    fig, axes = _pyplot().subplots(nrows, ncols, figsize=(10.5, 2.0 * nrows), squeeze=False)
    for ax, r in zip(axes.flat, shown):
        xs = [d.strftime("%m-%d") for d, _ in r.history] + [run_date.strftime("%m-%d")]
        ys = [v for _, v in r.history] + [r.value]
        ax.plot(xs, ys, color=BLUE, marker="o", markersize=3)
        ax.plot([xs[-1]], [ys[-1]], marker="o", markersize=7, color=RED if r.flagged else BLUE)
        if r.mean is not None and r.std is not None:
            ax.axhspan(r.mean - DRIFT_SIGMAS * r.std, r.mean + DRIFT_SIGMAS * r.std, color="#999", alpha=0.15)
            ax.axhline(r.mean, color="#999", linewidth=0.8, linestyle="--")
        ax.set_title(METRICS[r.metric] + ("  DRIFT" if r.flagged else ""), color=RED if r.flagged else "#222",
                     fontsize=9)
        ax.tick_params(axis="x", labelsize=7, labelrotation=45)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    fig.tight_layout()
    return _svg(fig)


def _entities_per_note_svg(con, run_date: date) -> str:
    counts = [r[0] for r in con.execute(
        "select count(*) from note_nlp where nlp_date = $d group by note_id", {"d": run_date}).fetchall()]
    if not counts:
        return ""
    fig, ax = _figure()
    low, high = min(counts), max(counts)
    ax.hist(counts, bins=[x - 0.5 for x in range(low, high + 2)], color=BLUE, rwidth=0.9)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("entities in a note (notes with at least one)")
    ax.set_ylabel("notes")
    ax.set_title("Entities per note")
    return _svg(fig)


def _section_assertions(con, run_date: date) -> str:
    p = {"d": run_date}
    mix = con.execute("select term_exists, term_temporal, count(*) from note_nlp where nlp_date = $d "
                      "group by 1, 2 order by 1, 2", p).fetchall()
    flags = ", ".join(f"sum((term_modifiers like '%{f}=true%')::int)" for f in MODIFIER_FLAGS)
    modifier_counts = con.execute(
        f"select {flags}, sum((term_modifiers like '%subject=family%')::int), count(*) "
        "from note_nlp where nlp_date = $d", p).fetchone()
    total = modifier_counts[-1] or 0
    names = [*MODIFIER_FLAGS, "family"]
    values = [int(v or 0) for v in modifier_counts[:-1]]
    labels = con.execute("select regexp_extract(term_modifiers, 'label=([^;]*)', 1) as label, count(*) "
                         "from note_nlp where nlp_date = $d group by 1 order by 2 desc", p).fetchall()
    plots = _bar_svg([f"{e}/{t}" for e, t, _ in mix], [n for *_, n in mix], "term_exists / term_temporal") + \
        _bar_svg(names, values, "Modifiers set (rows)", color="#6a4c93")
    return (
        f'<div class="plots">{plots}</div>'
        + _table(["term_exists", "term_temporal", "rows", "share"],
                 [[e, t, n, _fmt(n / total if total else None, "x_share")] for e, t, n in mix], {2, 3})
        + _table(["modifier", "rows", "share"],
                 [[k, v, _fmt(v / total if total else None, "x_share")] for k, v in zip(names, values)], {1, 2})
        + _table(["label", "rows"], [[lab or "(none)", n] for lab, n in labels], {1})
    )


def _section_concepts(con, run_date: date, have_concept: bool) -> str:
    if have_concept:
        rows = con.execute(
            "select n.note_nlp_concept_id, coalesce(c.concept_name, '(not in CONCEPT)'), coalesce(c.domain_id, ''), "
            "coalesce(c.vocabulary_id, ''), count(*) as n from note_nlp n left join concept c "
            "on c.concept_id = n.note_nlp_concept_id where n.nlp_date = $d and n.note_nlp_concept_id <> 0 "
            f"group by all order by n desc, 1 limit {TOP_CONCEPTS}", {"d": run_date}).fetchall()
        return _table(["concept_id", "concept_name", "domain", "vocabulary", "rows"], [list(r) for r in rows], {0, 4})
    rows = con.execute(
        "select note_nlp_concept_id, count(*) as n from note_nlp where nlp_date = $d and note_nlp_concept_id <> 0 "
        f"group by 1 order by n desc, 1 limit {TOP_CONCEPTS}", {"d": run_date}).fetchall()
    return '<p class="empty">No CONCEPT table: names unavailable.</p>' + _table(["concept_id", "rows"],
                                                                                [list(r) for r in rows], {0, 1})


def _section_phi(con, run_date: date) -> str:
    rows = con.execute("select phi_type, sum(n) from notenlp_phi_summary where run_date = $d group by 1 "
                       "order by 2 desc, 1", {"d": run_date}).fetchall()
    return _side_by_side(_bar_svg([r[0] for r in rows], [r[1] for r in rows], "PHI spans replaced, by type",
                                  color="#8e5572", horizontal=True),
                         _table(["phi_type", "spans"], [list(r) for r in rows], {1}))


def _section_timings(con, run_date: date) -> str:
    skipped = "rows_skipped" if "rows_skipped" in columns(con, "notenlp_run_log") else "null"
    rows = con.execute(
        f"select stage, epoch(finished_at) - epoch(started_at), rows_in, rows_out, rows_quarantined, {skipped} "
        "from notenlp_run_log where run_date = $d order by started_at", {"d": run_date}).fetchall()
    plot = _bar_svg([r[0] for r in rows], [r[1] for r in rows], "Stage time (s)", color="#3d7a57", horizontal=True)
    table = _table(["stage", "seconds", "rows in", "rows out", "quarantined", "skipped"],
                   [[s, f"{sec:.1f}", i, o, q, "–" if k is None else k] for s, sec, i, o, q, k in rows],
                   {1, 2, 3, 4, 5})
    return _side_by_side(plot, table)


def _side_by_side(*parts: str) -> str:
    return f'<div class="plots">{"".join(parts)}</div>'


def _section_quarantine(con, run_date: date) -> str:
    rows = con.execute(
        "select stage, reason, count(*) as n from (select stage, unnest(string_split(reason, ';')) as reason "
        "from notenlp_quarantine where run_date = $d) group by 1, 2 order by n desc, 1, 2", {"d": run_date}).fetchall()
    total = con.execute("select count(*) from notenlp_quarantine where run_date = $d", {"d": run_date}).fetchone()[0]
    note = f"<p>{total:,} row(s) quarantined; a row failing several checks counts once per reason below.</p>"
    return note + _side_by_side(
        _bar_svg([f"{s}: {r}" for s, r, _ in rows], [n for *_, n in rows], "Quarantined rows by reason", color=RED,
                 horizontal=True),
        _table(["stage", "reason", "rows"], [list(r) for r in rows], {2}))


def _section_drift(rows: list[Drift], run_date: date) -> str:
    flagged = [r for r in rows if r.flagged]
    verdict = (f'<p class="flag" id="drift-flag">{len(flagged)} metric(s) drifted beyond {DRIFT_SIGMAS:g} standard '
               f'deviations of the last {DRIFT_NIGHTS} nights: '
               f'{html.escape(", ".join(METRICS[r.metric] for r in flagged))}.</p>' if flagged else
               f'<p class="ok" id="drift-ok">No metric beyond {DRIFT_SIGMAS:g} standard deviations of the last '
               f'{DRIFT_NIGHTS} nights.</p>')
    table_rows = [[METRICS[r.metric], _fmt(r.value, r.metric), _fmt(r.mean, r.metric), _fmt(r.std, r.metric),
                   "–" if r.z is None else f"{r.z:+.1f}", r.nights, "DRIFT" if r.flagged else ""] for r in rows]
    return verdict + _table(["metric", "tonight", f"{DRIFT_NIGHTS}-night mean", "std", "z", "nights", "flag"],
                            table_rows, {1, 2, 3, 4, 5}, ["drift" if r.flagged else "" for r in rows]) + \
        _drift_svg(rows, run_date)


def render(con, run_date: date) -> str:
    present = tables(con)
    metrics = night_metrics(con, run_date)
    drifts = drift(con, run_date)
    flagged = {r.metric for r in drifts if r.flagged}
    systems = []
    if "note_nlp" in present:
        systems = [r[0] for r in con.execute("select distinct nlp_system from note_nlp where nlp_date = $d "
                                             "order by 1", {"d": run_date}).fetchall() if r[0]]
    tiles = "".join(
        f'<div class="tile{" drift" if m in flagged else ""}"><div class="v">{_fmt(metrics[m], m)}</div>'
        f'<div class="k">{html.escape(METRICS[m])}</div></div>' for m in METRICS)
    missing = '<p class="empty">Table {} is not in the warehouse.</p>'
    sections = [
        ("Notes processed", f'<div class="tiles">{tiles}</div>'),
        (f"Drift against the last {DRIFT_NIGHTS} nights", _section_drift(drifts, run_date)),
        ("Entities per note", _entities_per_note_svg(con, run_date) if "note_nlp" in present
         else missing.format("note_nlp")),
        ("Assertion mix", _section_assertions(con, run_date) if "note_nlp" in present
         else missing.format("note_nlp")),
        ("Top concepts", _section_concepts(con, run_date, "concept" in present) if "note_nlp" in present
         else missing.format("note_nlp")),
        ("PHI found by type", _section_phi(con, run_date) if "notenlp_phi_summary" in present
         else missing.format("notenlp_phi_summary")),
        ("Stage timings", _section_timings(con, run_date) if "notenlp_run_log" in present
         else missing.format("notenlp_run_log")),
        ("Quarantined rows by reason", _section_quarantine(con, run_date) if "notenlp_quarantine" in present
         else missing.format("notenlp_quarantine")),
    ]
    body = "".join(f'<section id="{_anchor(title)}"><h2>{html.escape(title)}</h2>{content}</section>'
                   for title, content in sections)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    system = html.escape(", ".join(systems)) or "–"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>notenlp data-quality report {run_date.isoformat()}</title><style>{STYLE}</style></head><body>"
        f"<h1>notenlp data-quality report — {run_date.isoformat()}</h1>"
        f'<p class="sub">nlp_system: {system} · generated {generated} · counts and rates only, no note text</p>'
        f"{body}</body></html>"
    )


def _anchor(title: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-")
