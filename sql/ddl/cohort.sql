-- omop cdm 5.4 cohort and cohort_definition: the official duckdb ddl's columns, types and order
-- (OMOPCDM_duckdb_5.4_ddl.sql), lowercase. one deviation: cohort.subject_id is bigint, because
-- person_id is bigint in this warehouse (docs/tables.md). rows are written by notenlp.cohorts from
-- the definitions under sql/cohorts/.
create table if not exists cohort (
    cohort_definition_id integer not null,
    subject_id bigint not null,
    cohort_start_date date not null,
    cohort_end_date date not null
);

create table if not exists cohort_definition (
    cohort_definition_id integer not null,
    cohort_definition_name varchar(255) not null,
    cohort_definition_description text null,
    definition_type_concept_id integer not null,
    cohort_definition_syntax text null,
    subject_concept_id integer not null,
    cohort_initiation_date date null
);
