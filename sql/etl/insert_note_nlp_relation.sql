-- load one night's validated relations into the note_nlp_relation extension table.
-- parameters: $notes, $relations (validated relation parquet with note_nlp_id_1/2), $nlp_system,
-- $nlp_date, $nlp_datetime.
delete from note_nlp_relation where note_id in (select note_id from read_parquet($notes));

insert into note_nlp_relation (
    note_nlp_relation_id, note_id, note_nlp_id_1, note_nlp_id_2, relationship_id, score, nlp_system, nlp_date,
    nlp_datetime
)
with relations as (
    select * from read_parquet($relations)
),

final as (
    select
        note_nlp_relation_id,
        note_id,
        note_nlp_id_1,
        note_nlp_id_2,
        relationship as relationship_id,
        score,
        $nlp_system as nlp_system,
        $nlp_date::date as nlp_date,
        $nlp_datetime::timestamp as nlp_datetime
    from relations
)

select * from final;
