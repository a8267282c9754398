"""Training recipe of the toy test model: learns a term -> label lexicon from gold notes.

Reads gold records from $TOY_TRAINING (JSONL), writes the lexicon to $TOY_LEXICON and its size
to $NOTENLP_TRAIN_METRICS, as a real recipe writes its model file and metrics.
"""

import json
import os
from pathlib import Path

lexicon = {}
with open(os.environ["TOY_TRAINING"], encoding="utf-8") as handle:
    for line in handle:
        record = json.loads(line)
        for entity in record["entities"]:
            lexicon[entity["text"].lower()] = entity["label"]
Path(os.environ["TOY_LEXICON"]).write_text(json.dumps(lexicon, sort_keys=True), encoding="utf-8")
if os.environ.get("NOTENLP_TRAIN_METRICS"):
    Path(os.environ["NOTENLP_TRAIN_METRICS"]).write_text(json.dumps({"lexicon_terms": len(lexicon)}))
