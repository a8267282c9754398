-- load one night's validated relations into the note_nlp_relation extension table; both ends
-- become the dense note_nlp ids that insert_note_nlp.sql (run first, in the same transaction)
-- recorded in notenlp_note_nlp_key for the stage's hashed ids. a relation to a medication attribute
-- (has_strength, has_route, ...) is not loaded: the attribute is no note_nlp row of its own but a
-- pair of the drug row's term_modifiers (see insert_note_nlp.sql).
-- parameters: $notes, $relations (validated relation parquet with note_nlp_id_1/2), $entities,
-- $attribute_labels, $hashed_ids (the hashes are the note_nlp ids: see insert_note_nlp.sql), $nlp_system,
-- $nlp_date, $nlp_datetime.
delete from note_nlp_relation where note_id in (select note_id from read_parquet($notes));

insert into note_nlp_relation (
    note_nlp_relation_id, note_id, note_nlp_id_1, note_nlp_id_2, relationship_id, score, nlp_system, nlp_date,
    nlp_datetime
)
with relations as (
    select * from read_parquet($relations)
),

note_nlp_keys as (
    select note_nlp_key, note_nlp_id from notenlp_note_nlp_key where not $hashed_ids
    union all
    select note_nlp_id as note_nlp_key, note_nlp_id from read_parquet($entities) where $hashed_ids
),

attribute_keys as (
    select note_nlp_id as note_nlp_key from read_parquet($entities) where list_contains($attribute_labels, label)
),

final as (
    select
        relations.note_nlp_relation_id,
        relations.note_id,
        heads.note_nlp_id as note_nlp_id_1,
        tails.note_nlp_id as note_nlp_id_2,
        relations.relationship as relationship_id,
        relations.score,
        $nlp_system as nlp_system,
        $nlp_date::date as nlp_date,
        $nlp_datetime::timestamp as nlp_datetime
    from relations
    inner join note_nlp_keys as heads on heads.note_nlp_key = relations.note_nlp_id_1
    inner join note_nlp_keys as tails on tails.note_nlp_key = relations.note_nlp_id_2
    where relations.note_nlp_id_2 not in (select note_nlp_key from attribute_keys)
)

select * from final;
