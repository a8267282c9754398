-- cohort template: persons whose notes mention a finding (or a descendant) and always negate it
-- ("denies chest pain" in every note that names it): a finding ruled out, never present.
-- parameters: $finding_concept_id (a standard concept).
-- output: person_id, cohort_start_date, cohort_end_date (first and last note mentioning it).
with facts as (
    select * from note_fact
),

findings as (
    select descendant_concept_id as concept_id
    from concept_ancestor
    where ancestor_concept_id = $finding_concept_id
    union
    select $finding_concept_id
),

mentions as (
    select
        facts.person_id,
        facts.note_date,
        facts.negated
    from facts
    inner join findings on findings.concept_id = facts.concept_id
),

final as (
    select
        person_id,
        min(note_date) as cohort_start_date,
        max(note_date) as cohort_end_date
    from mentions
    group by person_id
    having bool_and(negated)
)

select * from final
