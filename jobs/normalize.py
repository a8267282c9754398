"""spark-submit entrypoint of the normalize stage: `spark-submit jobs/normalize.py --run-date YYYY-MM-DD [...]`."""

import sys

from notenlp.stages.cli import main

if __name__ == "__main__":
    sys.exit(main(["normalize", *sys.argv[1:]]))
