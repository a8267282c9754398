-- cohort template: persons with a drug (or a descendant) that a note relates to a problem (or a
-- descendant) as its adverse event: note_nlp_relation causes_adverse_event, drug -> problem.
-- parameters: $drug_concept_id, $problem_concept_id (standard concepts).
-- output: person_id, cohort_start_date, cohort_end_date (first and last note with the relation).
with facts as (
    select * from note_fact
),

relations as (
    select note_nlp_id_1, note_nlp_id_2
    from note_nlp_relation
    where relationship_id = 'causes_adverse_event'
),

drugs as (
    select descendant_concept_id as concept_id
    from concept_ancestor
    where ancestor_concept_id = $drug_concept_id
    union
    select $drug_concept_id
),

problems as (
    select descendant_concept_id as concept_id
    from concept_ancestor
    where ancestor_concept_id = $problem_concept_id
    union
    select $problem_concept_id
),

adverse_events as (
    select
        drug_facts.person_id,
        drug_facts.note_date
    from relations
    inner join facts as drug_facts on drug_facts.note_nlp_id = relations.note_nlp_id_1
    inner join facts as problem_facts on problem_facts.note_nlp_id = relations.note_nlp_id_2
    inner join drugs on drugs.concept_id = drug_facts.concept_id
    inner join problems on problems.concept_id = problem_facts.concept_id
),

final as (
    select
        person_id,
        min(note_date) as cohort_start_date,
        max(note_date) as cohort_end_date
    from adverse_events
    group by person_id
)

select * from final
