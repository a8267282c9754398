-- load one night's validated entities into omop note_nlp, replacing every earlier row of the
-- night's notes (a re-run of the same night therefore never duplicates).
-- note_nlp_id: the official cdm 5.4 ddl declares it integer, so the stage's 63-bit hash of
-- (note_id, start, end, label) is the key of notenlp_note_nlp_key, which hands out dense ids
-- (1, 2, ...) the first time it sees a key and the same id ever after: ids fit 32 bits until
-- 2^31 distinct mentions and are stable across reruns of the same note and system.
-- notenlp_note_nlp_key is created with the other operational tables (sql/ddl/notenlp_operational.sql).
-- parameters: $notes (parquet of the night's de-identified notes), $entities (validated entity
-- parquet), $nlp_system, $nlp_date, $nlp_datetime.
insert into notenlp_note_nlp_key (note_nlp_key, note_nlp_id)
with entity_keys as (
    select distinct note_nlp_id as note_nlp_key from read_parquet($entities)
),

known_keys as (
    select note_nlp_key from notenlp_note_nlp_key
),

issued as (
    select coalesce(max(note_nlp_id), 0) as last_id from notenlp_note_nlp_key
),

new_keys as (
    select entity_keys.note_nlp_key
    from entity_keys
    left join known_keys on known_keys.note_nlp_key = entity_keys.note_nlp_key
    where known_keys.note_nlp_key is null
),

final as (
    select
        new_keys.note_nlp_key,
        issued.last_id + row_number() over (order by new_keys.note_nlp_key) as note_nlp_id
    from new_keys
    cross join issued
)

select * from final;

delete from note_nlp where note_id in (select note_id from read_parquet($notes));

insert into note_nlp (
    note_nlp_id, note_id, section_concept_id, snippet, "offset", lexical_variant, note_nlp_concept_id,
    note_nlp_source_concept_id, nlp_system, nlp_date, nlp_datetime, term_exists, term_temporal, term_modifiers
)
with entities as (
    select * from read_parquet($entities)
),

note_nlp_keys as (
    select note_nlp_key, note_nlp_id from notenlp_note_nlp_key
),

final as (
    select
        note_nlp_keys.note_nlp_id,
        entities.note_id,
        entities.section_concept_id,
        entities.snippet,
        entities.start::varchar as "offset",
        entities.lexical_variant,
        entities.concept_id as note_nlp_concept_id,
        entities.source_concept_id as note_nlp_source_concept_id,
        $nlp_system as nlp_system,
        $nlp_date::date as nlp_date,
        $nlp_datetime::timestamp as nlp_datetime,
        entities.term_exists,
        entities.term_temporal,
        entities.term_modifiers
    from entities
    inner join note_nlp_keys on note_nlp_keys.note_nlp_key = entities.note_nlp_id
)

select * from final;
