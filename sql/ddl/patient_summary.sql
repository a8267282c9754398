-- patient_summary: per person, the active problems and medications the notes state, one row per
-- (person, kind, concept); rebuilt as a whole by sql/etl/insert_patient_summary.sql after each
-- load. documented in patient_summary.md.
create table if not exists patient_summary (
    person_id bigint not null,
    kind varchar(20) not null,
    concept_id integer not null,
    concept_name varchar(255) null,
    term varchar(250) not null,
    strength varchar(250) null,
    route varchar(250) null,
    frequency varchar(250) null,
    n_mentions integer not null,
    n_notes integer not null,
    first_mention_date date not null,
    last_mention_date date not null,
    check (kind in ('problem', 'medication'))
);
