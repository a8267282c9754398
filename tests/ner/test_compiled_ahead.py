"""The CRF decode compiled ahead of time (``notenlp.compiled``): cached as an extension module, loaded without
Numba, the same paths and the same marginal floats as the jitted and the Python decode."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from notenlp import compiled
from notenlp.ner.crf import (AHEAD_NAME, AHEAD_SIGNATURE, _viterbi_marginals, ahead_of_time_viterbi_marginals,
                             compiled_viterbi_marginals, viterbi_marginals_python)


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("compiled-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NOTENLP_CACHE", str(root))
        assert ahead_of_time_viterbi_marginals(build=False) is None  # an empty cache holds no module
        built = ahead_of_time_viterbi_marginals(build=True)
        assert built is not None, "numba.pycc could not build the module here (a C compiler is needed)"
        yield root


def random_problems(seed: int):
    rng = np.random.default_rng(seed)
    for trial in range(60):
        size = int(rng.integers(2, 10))
        lengths = rng.integers(0, 40, size=int(rng.integers(1, 5)))
        scores = rng.normal(0, 3, size=(int(lengths.sum()), size))
        transitions = rng.normal(0, 2, size=(size, size))
        if trial % 3 == 0:  # whole numbers: many tied paths
            scores, transitions = np.round(scores), np.round(transitions)
        yield trial, scores, transitions, lengths


def test_the_module_decodes_bit_for_bit_as_numba_and_python(cache_root, monkeypatch):
    monkeypatch.setenv("NOTENLP_CACHE", str(cache_root))
    ahead = ahead_of_time_viterbi_marginals(build=False)
    jitted = compiled_viterbi_marginals()
    for trial, scores, transitions, lengths in random_problems(5):
        for with_marginals in (True, False):
            path, marginal = ahead(scores, transitions, lengths, with_marginals)
            for other in (jitted, viterbi_marginals_python):
                other_path, other_marginal = other(scores, transitions, lengths, with_marginals)
                assert path.tolist() == other_path.tolist(), trial
                assert marginal.tolist() == other_marginal.tolist(), trial  # the same floats, not merely close


def test_arrays_of_other_types_or_layouts_are_decoded_as_numba_decodes_them(cache_root, monkeypatch):
    monkeypatch.setenv("NOTENLP_CACHE", str(cache_root))
    ahead = ahead_of_time_viterbi_marginals(build=False)
    jitted = compiled_viterbi_marginals()
    _, scores, transitions, lengths = next(random_problems(8))
    cases = {"float32 scores": (scores.astype(np.float32), transitions, lengths),
             "int32 lengths": (scores, transitions, lengths.astype(np.int32)),
             "Fortran order": (np.asfortranarray(scores), transitions.T.copy().T, lengths),
             "strided view": (np.repeat(scores, 2, axis=0)[::2], transitions, lengths)}
    for name, args in cases.items():
        path, marginal = ahead(*args, True)
        expected_path, expected_marginal = jitted(*args, True)
        assert path.tolist() == expected_path.tolist(), name
        assert marginal.tolist() == expected_marginal.tolist(), name


def test_a_fresh_process_loads_the_cached_module_without_numba(cache_root, tmp_path):
    _, scores, transitions, lengths = next(random_problems(13))
    np.save(tmp_path / "scores.npy", scores)
    np.save(tmp_path / "transitions.npy", transitions)
    np.save(tmp_path / "lengths.npy", lengths)
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        from notenlp.ner.crf import viterbi_marginals
        folder = {str(tmp_path)!r}
        path, marginal = viterbi_marginals(np.load(folder + "/scores.npy"), np.load(folder + "/transitions.npy"),
                                           np.load(folder + "/lengths.npy"), True)
        print(json.dumps({{"path": path.tolist(), "marginal": marginal.tolist(),
                           "modules": sorted({{m.split(".")[0] for m in sys.modules}})}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NOTENLP_CACHE": str(cache_root)})
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted({"numba", "llvmlite", "scipy"} & set(result["modules"])) == []
    path, marginal = viterbi_marginals_python(scores, transitions, lengths, True)
    assert result["path"] == path.tolist()
    assert result["marginal"] == marginal.tolist()


def test_the_key_follows_the_signature_and_the_function():
    key = compiled.build_key(_viterbi_marginals, AHEAD_SIGNATURE)
    assert key == compiled.build_key(_viterbi_marginals, AHEAD_SIGNATURE)
    assert key != compiled.build_key(_viterbi_marginals, AHEAD_SIGNATURE.replace("b1", "i8"))
    assert key != compiled.build_key(viterbi_marginals_python, AHEAD_SIGNATURE)


def _not_compilable(values):
    return {str(v): object() for v in values}


def test_a_failed_build_is_remembered_and_leaves_the_caller_its_jitted_function(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path))
    signature = "i8(i8[::1])"
    assert compiled.build("not_compilable", _not_compilable, signature) is None
    assert "could not compile not_compilable ahead of time" in caplog.text
    folder = tmp_path / compiled.KIND / compiled.build_key(_not_compilable, signature)
    assert (folder / compiled.FAILED_MARKER).is_file()
    caplog.clear()
    assert compiled.build("not_compilable", _not_compilable, signature) is None  # not tried again
    assert caplog.text == ""
    assert compiled.load(AHEAD_NAME, _viterbi_marginals, AHEAD_SIGNATURE) is None
