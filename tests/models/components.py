"""Two tiny annotators for the model-lifecycle tests: real components reading real rule files."""

from __future__ import annotations

import json
import re
from pathlib import Path

from notenlp.doc import Doc, Entity
from notenlp.resources import resource_path


class LexiconTagger:
    """Tags every whole-word, case-insensitive occurrence of a lexicon term (``{"term": "LABEL"}``)."""

    def __init__(self, *, rules: str):
        lexicon = json.loads(resource_path(rules).read_text(encoding="utf-8"))
        self.terms = sorted(lexicon.items(), key=lambda item: -len(item[0]))

    def __call__(self, doc: Doc) -> Doc:
        taken: list[tuple[int, int]] = []
        for term, label in self.terms:
            for match in re.finditer(rf"\b{re.escape(term)}\b", doc.text, flags=re.IGNORECASE):
                if any(s < match.end() and match.start() < e for s, e in taken):
                    continue
                taken.append(match.span())
                doc.entities.append(Entity(match.start(), match.end(), match.group(), label, source="rule"))
        return doc


class NegationFlagger:
    """Marks an entity negated when a trigger (``{"triggers": [...], "window": n}``) ends within n chars before it."""

    def __init__(self, *, rules: str):
        spec = json.loads(resource_path(rules).read_text(encoding="utf-8"))
        self.triggers = [t.lower() for t in spec["triggers"]]
        self.window = int(spec.get("window", 20))

    def __call__(self, doc: Doc) -> Doc:
        lowered = doc.text.lower()
        for entity in doc.entities:
            before = lowered[max(0, entity.start - self.window):entity.start]
            entity.negated = any(re.search(rf"\b{re.escape(t)}\b", before) for t in self.triggers)
        return doc


class ShippedNegationFlagger(NegationFlagger):
    """A NegationFlagger whose rules default to a file shipped beside it, as resources ship with notenlp."""

    def __init__(self, *, rules: str = str(Path(__file__).with_name("toy_negation.json"))):
        super().__init__(rules=rules)


def import_root() -> Path:
    """The sys.path entry this module was imported from, so child processes import it under the same name."""
    return Path(__file__).resolve().parents[len(__name__.split(".")) - 1]


def write_rules(folder: Path, lexicon: dict[str, str], triggers: list[str], window: int = 12) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    lexicon_file, negation_file = folder / "lexicon.json", folder / "negation.json"
    lexicon_file.write_text(json.dumps(lexicon), encoding="utf-8")
    negation_file.write_text(json.dumps({"triggers": triggers, "window": window}), encoding="utf-8")
    return lexicon_file, negation_file


def toy_config(lexicon_file: Path, negation_file: Path) -> dict:
    return {
        "name": "toy",
        "components": [
            {"name": "tagger", "factory": f"{__name__}:LexiconTagger", "config": {"rules": str(lexicon_file)}},
            {"name": "negation", "factory": f"{__name__}:NegationFlagger", "config": {"rules": str(negation_file)}},
        ],
    }
