"""spark-submit entrypoint of the annotate stage: `spark-submit jobs/annotate.py --run-date YYYY-MM-DD [...]`."""

import sys

from notenlp.stages.cli import main

if __name__ == "__main__":
    sys.exit(main(["annotate", *sys.argv[1:]]))
