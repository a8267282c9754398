-- omop cdm 5.4 note_nlp (duckdb ddl column names and types).
-- wider ids: note_nlp_id and note_id are bigint (see note.sql); note_nlp_id values are dense ids
-- below 2^31 from notenlp_note_nlp_key (see sql/etl/insert_note_nlp.sql), stable across reruns.
create table if not exists note_nlp (
    note_nlp_id bigint not null,
    note_id bigint not null,
    section_concept_id integer null,
    snippet varchar(250) null,
    "offset" varchar(50) null,
    lexical_variant varchar(250) not null,
    note_nlp_concept_id integer null,
    note_nlp_source_concept_id integer null,
    nlp_system varchar(250) null,
    nlp_date date not null,
    nlp_datetime timestamp null,
    term_exists varchar(1) null,
    term_temporal varchar(50) null,
    term_modifiers varchar(2000) null
);
