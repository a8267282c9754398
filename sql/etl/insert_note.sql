-- load one night's de-identified notes into omop note; a note seen again replaces its earlier row.
-- parameters: $deid_notes (parquet glob of the deidentify stage for the night),
--             $note_classes (sql/seeds/note_class_loinc.csv: source category -> LOINC document code).
-- note_type_concept_id 32817 = 'EHR' (Type Concept); encoding 32678 = 'UTF-8'; language 4180186 = 'English language'.
-- note_class_concept_id: the loaded vocabulary's LOINC concept of the category's document code, else 0.
-- note_date / note_datetime arrive already moved by the deidentify stage when NOTENLP_DATE_MODE=shift.
delete from note where note_id in (select note_id from read_parquet($deid_notes));

insert into note (
    note_id, person_id, note_date, note_datetime, note_type_concept_id, note_class_concept_id, note_title,
    note_text, encoding_concept_id, language_concept_id, provider_id, visit_occurrence_id, visit_detail_id,
    note_source_value, note_event_id, note_event_field_concept_id
)
with batch as (
    select * from read_parquet($deid_notes)
),

note_classes as (
    select note_type, loinc_code from read_csv($note_classes, header = true, all_varchar = true)
),

loinc_concepts as (
    select concept_code, min(concept_id) as concept_id
    from concept
    where vocabulary_id = 'LOINC' and coalesce(invalid_reason, '') = ''
    group by concept_code
),

classified as (
    select
        batch.*,
        coalesce(loinc_concepts.concept_id, 0) as note_class_concept_id
    from batch
    left join note_classes on note_classes.note_type = lower(trim(batch.note_type))
    left join loinc_concepts on loinc_concepts.concept_code = note_classes.loinc_code
),

final as (
    select
        note_id,
        person_id,
        note_date,
        note_datetime,
        32817 as note_type_concept_id,
        note_class_concept_id,
        left(note_title, 250) as note_title,
        note_text,
        32678 as encoding_concept_id,
        4180186 as language_concept_id,
        null::integer as provider_id,
        visit_occurrence_id,
        null::integer as visit_detail_id,
        left(concat_ws(':', note_source, note_type), 50) as note_source_value,
        null::bigint as note_event_id,
        null::integer as note_event_field_concept_id
    from classified
)

select * from final;
