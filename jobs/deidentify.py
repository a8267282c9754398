"""spark-submit entrypoint of the deidentify stage: `spark-submit jobs/deidentify.py --run-date YYYY-MM-DD [...]`."""

import sys

from notenlp.stages.cli import main

if __name__ == "__main__":
    sys.exit(main(["deidentify", *sys.argv[1:]]))
