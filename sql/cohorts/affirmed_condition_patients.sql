-- persons with an affirmed, current mention of a condition concept (or any of its descendants)
-- in their notes: the nightly cohort refresh most users start from.
-- parameters: $ancestor_concept_id (standard snomed concept id, e.g. 320128 essential hypertension).
with note_facts as (
    select * from note_nlp
),

notes as (
    select note_id, person_id, note_date from note
),

descendants as (
    select descendant_concept_id as concept_id
    from concept_ancestor
    where ancestor_concept_id = $ancestor_concept_id
    union
    select $ancestor_concept_id
),

affirmed as (
    select
        notes.person_id,
        notes.note_date,
        note_facts.note_id
    from note_facts
    inner join notes on notes.note_id = note_facts.note_id
    inner join descendants on descendants.concept_id = note_facts.note_nlp_concept_id
    where note_facts.term_exists = 'Y'
        and note_facts.term_temporal = 'present'
),

final as (
    select
        person_id,
        min(note_date) as first_mention_date,
        max(note_date) as last_mention_date,
        count(distinct note_id) as n_notes
    from affirmed
    group by person_id
)

select * from final
order by person_id
