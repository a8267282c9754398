-- the official cdm 5.4 ddl declares every id integer (32-bit); the note_id / person_id /
-- visit_occurrence_id of mimic-iv and jsonl sources are stable 63-bit hashes, so the results schema's note
-- and note_nlp hold them as bigint. note_nlp_id stays integer: it is a dense id from notenlp_note_nlp_key. ohdsi's maintainers on widening ids: "that is no issue.
-- as long as the columns remain some form of integer then the tools and methods will work just fine"
-- (github.com/OHDSI/CommonDataModel/issues/609). only notenlp's results tables are altered, never the
-- site's cdm schema; altering a column that is already bigint does nothing.
alter table note_nlp alter column note_id type bigint;

alter table note alter column note_id type bigint, alter column person_id type bigint,
    alter column visit_occurrence_id type bigint;
