"""Recipe: train the NER CRF, score it on the dev parts, log to MLflow and register ``notenlp-ner``.

    python models/ner/train.py --out src/notenlp/resources/ner/ner_crf.zip
"""

import sys

from notenlp.ner.training import main

if __name__ == "__main__":
    sys.exit(main())
