"""Build the bundled demo OMOP CDM (``src/notenlp/resources/demo_cdm/``) from the Synthea27Nj 5.4 zip.

Keeps PERSON, CONDITION_OCCURRENCE and DRUG_EXPOSURE (only the columns the demo generator reads)
and the CONCEPT rows they reference, plus the concepts named by the demo vocabulary
(``resources/demo/clinical.json``: findings, tests, procedures). The Synthea27Nj data set is Apache-2.0.

Usage: python scripts/build_demo_cdm.py [--zip PATH]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import zipfile
from pathlib import Path

import pandas as pd

from notenlp.corpora import MISSING_MESSAGE, corpus_path
from notenlp.resources import resource_path

PERSON_COLUMNS = ["person_id", "gender_concept_id", "year_of_birth", "month_of_birth", "day_of_birth"]
CONDITION_COLUMNS = ["condition_occurrence_id", "person_id", "condition_concept_id", "condition_start_date",
                     "condition_end_date", "condition_source_concept_id"]
DRUG_COLUMNS = ["drug_exposure_id", "person_id", "drug_concept_id", "drug_exposure_start_date",
                "drug_exposure_end_date", "days_supply", "drug_source_concept_id"]
CONCEPT_COLUMNS = ["concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id",
                   "standard_concept", "concept_code"]


def _read(archive: zipfile.ZipFile, name: str, columns: list[str]) -> pd.DataFrame:
    with archive.open(name) as handle:
        frame = pd.read_csv(io.TextIOWrapper(handle, encoding="utf-8"), dtype=str, keep_default_na=False)
    return frame[columns]


def vocabulary_concept_ids() -> set[str]:
    clinical = json.loads(resource_path("demo", "clinical.json").read_text(encoding="utf-8"))
    ids = set()
    for group in ("findings", "tests", "procedures"):
        ids.update(str(item["concept_id"]) for item in clinical[group] if item["concept_id"])
    return ids


def build(zip_path: Path, out_dir: Path) -> dict[str, int]:
    with zipfile.ZipFile(zip_path) as archive:
        person = _read(archive, "PERSON.csv", PERSON_COLUMNS)
        condition = _read(archive, "CONDITION_OCCURRENCE.csv", CONDITION_COLUMNS)
        drug = _read(archive, "DRUG_EXPOSURE.csv", DRUG_COLUMNS)
        concept = _read(archive, "CONCEPT.csv", CONCEPT_COLUMNS)
    # Gender concepts (8507, 8532) are not in the zip's CONCEPT table; the generator reads them as M/F.
    wanted = set(condition["condition_concept_id"]) \
        | set(condition["condition_source_concept_id"]) | set(drug["drug_concept_id"]) \
        | set(drug["drug_source_concept_id"]) | vocabulary_concept_ids()
    missing = sorted(wanted - set(concept["concept_id"]) - {"0", ""})
    if missing:
        raise SystemExit(f"concept ids not in the zip's CONCEPT table: {missing}")
    concept = concept[concept["concept_id"].isin(wanted)].sort_values("concept_id", key=lambda s: s.astype(int))
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {"person": person, "condition_occurrence": condition, "drug_exposure": drug, "concept": concept}
    for name, frame in tables.items():
        # mtime=0 keeps the gzip bytes identical between runs, so rebuilding makes no spurious diff.
        with open(out_dir / f"{name}.csv.gz", "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
                gz.write(frame.to_csv(index=False).encode("utf-8"))
    return {name: len(frame) for name, frame in tables.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zip", type=Path, default=None, help="Synthea27Nj_5.4.zip (default: from the corpora folder)")
    parser.add_argument("--out", type=Path, default=resource_path("demo_cdm"), help="output folder")
    args = parser.parse_args(argv)
    zip_path = args.zip or corpus_path("omop", "Synthea27Nj_5.4.zip")
    if zip_path is None:
        print(MISSING_MESSAGE, file=sys.stderr)
        return 1
    counts = build(zip_path, args.out)
    total = sum(p.stat().st_size for p in args.out.glob("*.csv.gz"))
    print(", ".join(f"{name}: {count} rows" for name, count in counts.items()) + f"; {total / 1024:.1f} KiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
