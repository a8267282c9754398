-- rebuild patient_summary from note_fact: per person, the active problems (affirmed, present
-- mentions about the patient) and medications (affirmed, present drug mentions) with the latest
-- strength, route and frequency the notes give, and the first and last mention dates. a full
-- rebuild, so a rerun gives the same rows and a problem no longer mentioned disappears.
-- the attributes come from note_nlp_relation (has_strength, has_route, has_frequency -> the
-- attribute's note_nlp row), or from strength=/route=/frequency= in the drug row's term_modifiers.
delete from patient_summary;

insert into patient_summary (
    person_id, kind, concept_id, concept_name, term, strength, route, frequency, n_mentions, n_notes,
    first_mention_date, last_mention_date
)
with facts as (
    select * from note_fact
),

note_nlp_rows as (
    select note_nlp_id, lexical_variant, term_modifiers from note_nlp
),

attribute_relations as (
    select note_nlp_id_1, note_nlp_id_2, relationship_id
    from note_nlp_relation
    where relationship_id in ('has_strength', 'has_route', 'has_frequency')
),

active as (
    select
        person_id,
        case when label = 'PROBLEM' then 'problem' else 'medication' end as kind,
        concept_id,
        concept_name,
        lower(lexical_variant) as written,
        case when concept_id = 0 then lower(lexical_variant) else '' end as unmapped_term,
        note_nlp_id,
        note_id,
        note_date,
        start_offset
    from facts
    where label in ('PROBLEM', 'DRUG')
        and term_exists = 'Y'
        and term_temporal = 'present'
        and subject = 'patient'
),

related_attributes as (
    select
        attribute_relations.note_nlp_id_1 as note_nlp_id,
        max(note_nlp_rows.lexical_variant) filter (where attribute_relations.relationship_id = 'has_strength')
            as strength,
        max(note_nlp_rows.lexical_variant) filter (where attribute_relations.relationship_id = 'has_route')
            as route,
        max(note_nlp_rows.lexical_variant) filter (where attribute_relations.relationship_id = 'has_frequency')
            as frequency
    from attribute_relations
    inner join note_nlp_rows on note_nlp_rows.note_nlp_id = attribute_relations.note_nlp_id_2
    group by attribute_relations.note_nlp_id_1
),

mentions as (
    select
        active.*,
        coalesce(related_attributes.strength,
                 nullif(regexp_extract(drug_rows.term_modifiers, '(^|\x3b)strength=([^\x3b]*)', 2), '')) as strength,
        coalesce(related_attributes.route,
                 nullif(regexp_extract(drug_rows.term_modifiers, '(^|\x3b)route=([^\x3b]*)', 2), '')) as route,
        coalesce(related_attributes.frequency,
                 nullif(regexp_extract(drug_rows.term_modifiers, '(^|\x3b)frequency=([^\x3b]*)', 2), '')) as frequency
    from active
    left join related_attributes on related_attributes.note_nlp_id = active.note_nlp_id
        and active.kind = 'medication'
    left join note_nlp_rows as drug_rows on drug_rows.note_nlp_id = active.note_nlp_id
        and active.kind = 'medication'
),

final as (
    select
        person_id,
        kind,
        concept_id,
        max(concept_name) as concept_name,
        coalesce(max(concept_name), min(written)) as term,
        first(strength order by note_date desc, note_id desc, start_offset desc)
            filter (where strength is not null) as strength,
        first(route order by note_date desc, note_id desc, start_offset desc)
            filter (where route is not null) as route,
        first(frequency order by note_date desc, note_id desc, start_offset desc)
            filter (where frequency is not null) as frequency,
        count(*) as n_mentions,
        count(distinct note_id) as n_notes,
        min(note_date) as first_mention_date,
        max(note_date) as last_mention_date
    from mentions
    group by person_id, kind, concept_id, unmapped_term
)

select * from final
