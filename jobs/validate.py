"""spark-submit entrypoint of the validate stage: `spark-submit jobs/validate.py --run-date YYYY-MM-DD [...]`."""

import sys

from notenlp.stages.cli import main

if __name__ == "__main__":
    sys.exit(main(["validate", *sys.argv[1:]]))
