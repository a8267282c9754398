-- cohort template: persons with an affirmed, current mention of a concept or any of its descendants
-- (concept_ancestor) in a note dated within $within_days days before their latest note.
-- parameters: $ancestor_concept_id (a standard concept, e.g. 432867 hyperlipidemia),
-- $within_days (days; the window ends at each person's latest note, so per-person date shifts
-- of a de-identified warehouse do not move it).
-- output (every cohort template): person_id, cohort_start_date, cohort_end_date.
with facts as (
    select * from note_fact
),

notes as (
    select person_id, note_date from note
),

descendants as (
    select descendant_concept_id as concept_id
    from concept_ancestor
    where ancestor_concept_id = $ancestor_concept_id
    union
    select $ancestor_concept_id
),

latest_notes as (
    select person_id, max(note_date) as latest_note_date
    from notes
    group by person_id
),

affirmed as (
    select
        facts.person_id,
        facts.note_date
    from facts
    inner join descendants on descendants.concept_id = facts.concept_id
    inner join latest_notes on latest_notes.person_id = facts.person_id
    where facts.term_exists = 'Y'
        and facts.term_temporal = 'present'
        and facts.note_date >= latest_notes.latest_note_date - $within_days::integer
),

final as (
    select
        person_id,
        min(note_date) as cohort_start_date,
        max(note_date) as cohort_end_date
    from affirmed
    group by person_id
)

select * from final
