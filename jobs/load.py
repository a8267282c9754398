"""spark-submit entrypoint of the load stage: `spark-submit jobs/load.py --run-date YYYY-MM-DD [...]`."""

import sys

from notenlp.stages.cli import main

if __name__ == "__main__":
    sys.exit(main(["load", *sys.argv[1:]]))
