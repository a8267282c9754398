"""The nightly report renders from a small DuckDB warehouse; the drifted night is flagged, a steady one is not."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from notenlp.quality.report import add_arguments, run, write_report

from .warehouse import DRIFTED, FIRST_NIGHT, STEADY, build_warehouse

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
HEADINGS = ["Notes processed", "Drift against the last 7 nights", "Entities per note", "Assertion mix",
            "Top concepts", "PHI found by type", "Stage timings", "Quarantined rows by reason"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("warehouse") / "notenlp.duckdb")


@pytest.fixture(scope="module")
def reports(warehouse, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    return {"drifted": write_report(warehouse, DRIFTED, out),
            "steady": write_report(warehouse, STEADY, out / "steady.html"),
            "first": write_report(warehouse, FIRST_NIGHT, out)}


def _drift_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="drift"><td>([^<]+)</td>', page)


def test_drifted_night_is_flagged_in_red(reports):
    assert reports["drifted"].name == "notenlp-report-2024-03-08.html"
    page = reports["drifted"].read_text(encoding="utf-8")
    # Every note of the drifted night has 15 entities against about 5 on the 7 nights before.
    assert _drift_rows(page) == ["NOTE_NLP rows", "Entities per note", "Share with term_exists = N"]
    assert 'id="drift-flag"' in page and "3 metric(s) drifted" in page
    assert re.search(r"tr\.drift td\{color:#c62828", page)
    assert "<td>Entities per note</td><td class=\"n\">15</td><td class=\"n\">5.01</td>" in page


def test_steady_night_has_no_drift_and_every_section(reports):
    page = reports["steady"].read_text(encoding="utf-8")
    assert _drift_rows(page) == [] and 'id="drift-ok"' in page
    assert re.findall(r"<h2>([^<]+)</h2>", page) == HEADINGS
    # Top concepts are named from CONCEPT; a non-standard concept lowers the standard share.
    assert "<td>Chest pain</td>" in page and "<td>Chest pain, unspecified</td>" in page
    assert re.search(r'<div class="v">(\d+\.\d)%</div><div class="k">Share with a standard concept', page)
    assert "<td>validate</td><td>concept_unknown_or_nonstandard</td><td class=\"n\">1</td>" in page


def test_first_night_has_no_history_to_drift_from(reports):
    page = reports["first"].read_text(encoding="utf-8")
    assert _drift_rows(page) == []
    assert "notenlp data-quality report — 2024-03-01" in page


def test_page_is_self_contained(reports):
    page = reports["drifted"].read_text(encoding="utf-8")
    assert page.count("<svg") >= 6
    assert not re.search(r'(src|href)\s*=\s*"(https?:|//|file:)', page)
    assert "<link" not in page and "<script" not in page


def test_cli_writes_the_default_file_name(warehouse, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert run(parser.parse_args(["--warehouse", str(warehouse)])) == 0  # latest night by default
    assert (tmp_path / "reports" / f"notenlp-report-{DRIFTED.isoformat()}.html").exists()
    assert run(parser.parse_args(["--warehouse", str(tmp_path / "absent.duckdb")])) == 1


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip("chromium is not on PATH (Debian: apt-get install -y chromium); skipping the browser check")
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", *args],
                          capture_output=True, text=True, timeout=120, check=True)


def test_report_renders_in_headless_chromium(reports, tmp_path):
    report = reports["drifted"]
    dom = _chromium(["--dump-dom", report.resolve().as_uri()], tmp_path).stdout
    assert re.findall(r"<h2>([^<]+)</h2>", dom) == HEADINGS
    assert "notenlp data-quality report — 2024-03-08" in dom
    assert _drift_rows(dom) == ["NOTE_NLP rows", "Entities per note", "Share with term_exists = N"]

    shot = tmp_path / "report.png"
    _chromium(["--window-size=1200,900", f"--screenshot={shot}", report.resolve().as_uri()], tmp_path)
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))[..., :3]
    red = (abs(pixels[..., 0] - 0xC6 / 255) < 0.05) & (pixels[..., 1] < 0.25) & (pixels[..., 2] < 0.25)
    assert pixels.shape[:2] == (900, 1200)
    assert red.sum() > 200  # the red drift verdict and flagged rows are painted in the first screen
