-- record which text of which note this nlp_system processed tonight (the incremental key).
-- parameters: $notes (the night's validated notes), $nlp_system, $run_date.
delete from notenlp_note_state where note_id in (select note_id from read_parquet($notes));

insert into notenlp_note_state (note_id, text_hash, nlp_system, run_date)
with batch as (
    select note_id, text_hash from read_parquet($notes)
),

final as (
    select note_id, text_hash, $nlp_system as nlp_system, $run_date::date as run_date
    from batch
)

select * from final;
