"""spark-submit entrypoint of the ingest stage: `spark-submit jobs/ingest.py --run-date YYYY-MM-DD [...]`."""

import sys

from notenlp.stages.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
