-- load one night's validated entities into omop note_nlp, replacing every earlier row of the
-- night's notes (a re-run of the same night therefore never duplicates).
-- parameters: $notes (parquet of the night's de-identified notes), $entities (validated entity
-- parquet), $nlp_system, $nlp_date, $nlp_datetime.
delete from note_nlp where note_id in (select note_id from read_parquet($notes));

insert into note_nlp (
    note_nlp_id, note_id, section_concept_id, snippet, "offset", lexical_variant, note_nlp_concept_id,
    note_nlp_source_concept_id, nlp_system, nlp_date, nlp_datetime, term_exists, term_temporal, term_modifiers
)
with entities as (
    select * from read_parquet($entities)
),

final as (
    select
        note_nlp_id,
        note_id,
        section_concept_id,
        snippet,
        start::varchar as "offset",
        lexical_variant,
        concept_id as note_nlp_concept_id,
        source_concept_id as note_nlp_source_concept_id,
        $nlp_system as nlp_system,
        $nlp_date::date as nlp_date,
        $nlp_datetime::timestamp as nlp_datetime,
        term_exists,
        term_temporal,
        term_modifiers
    from entities
)

select * from final;
