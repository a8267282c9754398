"""Recipe: train the NER CRF, score it on the dev parts, log to MLflow and register ``notenlp-ner``.

    python models/ner/train.py            # writes src/notenlp/resources/ner/ner_crf.zip
    python models/ner/train.py --help     # corpora handling, iterations, penalties, MLflow options
"""

import sys

from notenlp.ner.training import main

if __name__ == "__main__":
    sys.exit(main())
