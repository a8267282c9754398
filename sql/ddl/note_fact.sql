-- note_fact: one row per fact a note states (a problem, drug, test or procedure mention of
-- note_nlp), with its person, note date, concept, assertion flags, section and offsets into the
-- de-identified note_text; documented in note_fact.md. medication attributes (strength, route, ...)
-- are not facts of their own: they are columns of patient_summary.
-- \x3b in the patterns is the ';' between term_modifiers pairs: sql files keep ';' for ending statements.
create or replace view note_fact as
with note_nlp_rows as (
    select * from note_nlp
),

notes as (
    select note_id, person_id, note_date from note
),

concepts as (
    select concept_id, concept_name, domain_id from concept
),

modifiers as (
    select
        note_nlp_id,
        note_id,
        note_nlp_concept_id,
        note_nlp_source_concept_id,
        lexical_variant,
        section_concept_id,
        term_exists,
        term_temporal,
        "offset"::integer as start_offset,
        regexp_extract(term_modifiers, '(^|\x3b)label=([^\x3b]*)', 2) as label,
        regexp_extract(term_modifiers, '(^|\x3b)negated=([^\x3b]*)', 2) = 'true' as negated,
        regexp_extract(term_modifiers, '(^|\x3b)possible=([^\x3b]*)', 2) = 'true' as possible,
        regexp_extract(term_modifiers, '(^|\x3b)hypothetical=([^\x3b]*)', 2) = 'true' as hypothetical,
        regexp_extract(term_modifiers, '(^|\x3b)conditional=([^\x3b]*)', 2) = 'true' as conditional,
        regexp_extract(term_modifiers, '(^|\x3b)historical=([^\x3b]*)', 2) = 'true' as historical,
        regexp_extract(term_modifiers, '(^|\x3b)subject=([^\x3b]*)', 2) as subject,
        nullif(regexp_extract(term_modifiers, '(^|\x3b)section=([^\x3b]*)', 2), '') as section
    from note_nlp_rows
),

final as (
    select
        modifiers.note_nlp_id,
        modifiers.note_id,
        notes.person_id,
        notes.note_date,
        modifiers.label,
        modifiers.note_nlp_concept_id as concept_id,
        concepts.concept_name,
        concepts.domain_id,
        modifiers.note_nlp_source_concept_id as source_concept_id,
        modifiers.lexical_variant,
        modifiers.term_exists,
        modifiers.term_temporal,
        modifiers.negated,
        modifiers.possible,
        modifiers.hypothetical,
        modifiers.conditional,
        modifiers.historical,
        modifiers.subject,
        modifiers.section,
        modifiers.section_concept_id,
        modifiers.start_offset,
        modifiers.start_offset + length(modifiers.lexical_variant) as end_offset
    from modifiers
    inner join notes on notes.note_id = modifiers.note_id
    left join concepts on concepts.concept_id = modifiers.note_nlp_concept_id
        and modifiers.note_nlp_concept_id <> 0
    where modifiers.label in ('PROBLEM', 'DRUG', 'TEST', 'PROCEDURE')
)

select * from final
