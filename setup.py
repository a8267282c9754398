"""Only what pyproject.toml cannot say: the wheel carries the repository's top-level ``sql/``,
``expectations/`` and ``models/`` folders as package data ``notenlp/_data/<name>``, where
``notenlp.resources.data_dir`` finds them through ``importlib.resources``. The folders stay at the top
level because that is where they are edited and reviewed; an editable install reads them there."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# Kept equal to notenlp.resources.PACKAGED_FOLDERS (tests/spine/test_wheel.py checks the built wheel).
PACKAGED_FOLDERS = ("sql", "expectations", "models")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the folders in place
            return
        for name in PACKAGED_FOLDERS:
            target = Path(self.build_lib) / "notenlp" / "_data" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithData})
