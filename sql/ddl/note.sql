-- omop cdm 5.4 note (duckdb ddl column names and types).
-- wider ids: note_id, person_id, visit_occurrence_id are bigint instead of integer because
-- mimic-iv note ids are strings that notenlp maps to stable 63-bit hashes.
-- note_text holds the de-identified text only: the analytics warehouse never stores phi.
create table if not exists note (
    note_id bigint not null,
    person_id bigint not null,
    note_date date not null,
    note_datetime timestamp null,
    note_type_concept_id integer not null,
    note_class_concept_id integer not null,
    note_title varchar(250) null,
    note_text text not null,
    encoding_concept_id integer not null,
    language_concept_id integer not null,
    provider_id integer null,
    visit_occurrence_id bigint null,
    visit_detail_id integer null,
    note_source_value varchar(50) null,
    note_event_id bigint null,
    note_event_field_concept_id integer null
);
