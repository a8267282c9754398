-- omop cdm 5.4 fact_relationship (duckdb ddl column names and types): the relations between two
-- note_nlp rows, in the cdm's own table beside the detailed note_nlp_relation extension.
-- wider ids like note_nlp.note_nlp_id (see note_nlp.sql): fact ids are bigint, their values the
-- dense note_nlp ids below 2^31.
create table if not exists fact_relationship (
    domain_concept_id_1 integer not null,
    fact_id_1 bigint not null,
    domain_concept_id_2 integer not null,
    fact_id_2 bigint not null,
    relationship_concept_id integer not null
);
