-- note_nlp_relation: relations between two NOTE_NLP rows of the same note (notenlp extension table,
-- not part of OMOP CDM 5.4). Documented column by column in note_nlp_relation.md.
create table if not exists note_nlp_relation (
    note_nlp_relation_id bigint not null primary key,
    note_id bigint not null,
    note_nlp_id_1 bigint not null,
    note_nlp_id_2 bigint not null,
    relationship_id varchar(50) not null,
    score double precision,
    nlp_system varchar(250),
    nlp_date date not null,
    nlp_datetime timestamp,
    check (note_nlp_id_1 <> note_nlp_id_2),
    check (relationship_id in ('has_strength', 'has_dose', 'has_route', 'has_frequency', 'has_duration',
                               'has_form', 'causes_adverse_event', 'treats', 'reveals')),
    check (score is null or (score >= 0 and score <= 1))
);
