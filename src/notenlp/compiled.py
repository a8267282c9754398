"""Numba functions compiled ahead of time (``numba.pycc``) into small extension modules kept in the cache.

A ``numba.njit(cache=True)`` function still costs every process ~0.4 CPU s on its first call: importing Numba
(which imports SciPy's BLAS bindings and cffi) and building its typing and target contexts before the cached
machine code can be loaded. The same function compiled by ``numba.pycc`` is a plain extension module: importing
it takes under a millisecond and needs neither Numba nor SciPy. The module is compiled for the generic CPU of the
platform (so a cache shared by machines of one architecture stays valid) and without fast-math, so it does the
same floating-point operations in the same order as the jitted function: the same results, bit for bit.

Entries live under ``$NOTENLP_CACHE/compiled/<key>/``; the key hashes the source of the function's module (Numba
freezes module globals into the code), the signature, the Numba and NumPy version files, the interpreter and
the platform, so any change compiles a new module. Building needs Numba and a C compiler and takes ~10-20 s,
once; a build that fails leaves a marker, is not retried for that key, and the caller keeps its jitted function.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from notenlp import cache

log = logging.getLogger(__name__)

KIND = "compiled"
FAILED_MARKER = "build-failed"
KEEP_BUILDS = 8  # compiled modules kept: each change of a compiled module's source leaves one behind


def _package_file(package: str, name: str) -> bytes:
    """A file of an installed package, found without importing the package (importing Numba is the cost saved)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return f"{package}: not installed".encode()
    path = Path(next(iter(spec.submodule_search_locations))) / name
    return path.read_bytes() if path.is_file() else f"{package}: no {name}".encode()


def build_key(function: Callable, signature: str) -> str:
    """Cache key of ``function`` compiled for ``signature`` here."""
    return cache.content_key(cache.source_bytes(function.__module__), function.__qualname__, signature,
                             _package_file("numba", "_version.py"), _package_file("numpy", "version.py"),
                             sys.implementation.cache_tag, importlib.machinery.EXTENSION_SUFFIXES[0],
                             os.uname().machine)


def _module_path(name: str, key: str) -> Path:
    return cache.cache_dir(KIND, key) / f"{name}{importlib.machinery.EXTENSION_SUFFIXES[0]}"


def load(name: str, function: Callable, signature: str) -> Callable | None:
    """The compiled ``function`` (exported as ``name``) when its module is in the cache, else None."""
    path = _module_path(name, build_key(function, signature))
    if not path.is_file():
        return None
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return getattr(module, name)
    except (ImportError, OSError, AttributeError) as exc:
        log.warning("compiled module %s unusable (%s); using the jitted function", path, type(exc).__name__)
        return None


def build(name: str, function: Callable, signature: str) -> Callable | None:
    """Compile ``function`` into the cache (unless a build for this key failed before) and load it; None when
    it cannot be built here (no Numba, no C compiler, an unwritable cache)."""
    key = build_key(function, signature)
    folder = cache.cache_dir(KIND, key)
    if (folder / FAILED_MARKER).exists():
        return None
    try:
        import warnings

        folder.mkdir(parents=True, exist_ok=True)
        logging.getLogger("compilers").setLevel(logging.WARNING)  # the build's compiler command lines
        with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pycc's pending-deprecation notice: the module it writes stands alone
            from numba.pycc import CC

            compiler = CC(name)
            compiler.output_dir = tmp
            compiler.verbose = False
            compiler.export(name, signature)(function)
            compiler.compile()
            os.replace(Path(tmp) / compiler.output_file, _module_path(name, key))
    except Exception as exc:  # noqa: BLE001 - any failure leaves the jitted function in use
        log.warning("could not compile %s ahead of time (%s: %s); using the jitted function (not tried again: "
                    "delete %s to retry)", name, type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else "",
                    folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / FAILED_MARKER).write_text(f"{type(exc).__name__}\n", encoding="utf-8")
        except OSError:
            pass
        return None
    _prune(folder.parent)
    log.info("compiled %s ahead of time into %s", name, folder)
    return load(name, function, signature)


def _prune(root: Path) -> None:
    """Keep the ``KEEP_BUILDS`` most recently written builds."""
    builds = []
    for entry in root.iterdir():
        try:
            builds.append((entry.stat().st_mtime_ns, entry))
        except OSError:
            continue
    for _, old in sorted(builds, reverse=True)[KEEP_BUILDS:]:
        shutil.rmtree(old, ignore_errors=True)
