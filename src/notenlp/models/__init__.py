"""Old name of ``notenlp.lifecycle``, kept only while ``notenlp.deid.benchmark`` still imports from it.

debt: #17 -- ``src/notenlp/deid/`` was being changed by other work when the lifecycle package was
renamed; once ``deid/benchmark.py`` takes ``DEID_GOLD_PREFIX`` from where it now lives, delete this
package. Nothing else may import it (an import-linter contract in ``pyproject.toml`` checks that).
"""
