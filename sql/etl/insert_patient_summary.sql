-- rebuild patient_summary from note_fact: per person, the active problems (affirmed, present
-- mentions about the patient) and medications (affirmed, present drug mentions) with the latest
-- strength, route and frequency the notes give, and the first and last mention dates. a full
-- rebuild, so a rerun gives the same rows and a problem no longer mentioned disappears.
-- the attributes come from strength=/route=/frequency= in the drug row's term_modifiers (where the
-- load puts a drug's attributes, sql/etl/insert_note_nlp.sql).
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

mentions as (
    select
        active.*,
        nullif(regexp_extract(drug_rows.term_modifiers, '(^|\x3b)strength=([^\x3b]*)', 2), '') as strength,
        nullif(regexp_extract(drug_rows.term_modifiers, '(^|\x3b)route=([^\x3b]*)', 2), '') as route,
        nullif(regexp_extract(drug_rows.term_modifiers, '(^|\x3b)frequency=([^\x3b]*)', 2), '') as frequency
    from active
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
