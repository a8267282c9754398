"""The dictionary of a warehouse's vocabulary is compiled once per vocabulary content, not once per write."""

from __future__ import annotations

import shutil

from notenlp.vocab import lookup
from notenlp.warehouse import connect


def test_other_writes_to_the_warehouse_reuse_the_compiled_dictionary(tmp_path, monkeypatch, tiny_warehouse):
    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path / "cache"))
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(tiny_warehouse, warehouse)
    compiled = []
    real_compile = lookup.compile_dictionary

    def counting_compile(*args, **kwargs):
        compiled.append(1)
        return real_compile(*args, **kwargs)

    monkeypatch.setattr(lookup, "compile_dictionary", counting_compile)
    first = lookup.warehouse_dictionary_path(warehouse)
    assert first.exists() and len(compiled) == 1
    with connect(warehouse) as con:  # a night's NOTE_NLP rows: the file changes, the vocabulary does not
        con.execute("create table note_nlp_example as select 1 as note_nlp_id")
    assert lookup.warehouse_dictionary_path(warehouse) == first and len(compiled) == 1
    with connect(warehouse) as con:  # a vocabulary change gets its own dictionary
        con.execute("update concept set concept_name = concept_name || ' x' where concept_id = 312437")
    second = lookup.warehouse_dictionary_path(warehouse)
    assert second != first and second.exists() and len(compiled) == 2


def test_the_night_and_the_cli_key_the_dictionary_alike(tmp_path, monkeypatch, tiny_warehouse):
    from notenlp.vocab.lookup import compiled_dictionary_for

    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path / "cache"))
    night = compiled_dictionary_for(tiny_warehouse, tmp_path / "staging")
    cli = lookup.warehouse_dictionary_path(tiny_warehouse)
    assert night.exists() and cli.exists()
    assert night.name.removeprefix("dictionary-") == cli.name.removeprefix("warehouse-dictionary-")
