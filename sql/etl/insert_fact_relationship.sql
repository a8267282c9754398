-- the night's note_nlp_relation rows also as omop fact_relationship rows between the two note_nlp
-- rows, one row per direction (the cdm convention: a relationship and its reverse, so that either
-- fact finds the other from fact_id_1). run after insert_note_nlp.sql (which removed the earlier
-- rows of the night's notes) and insert_note_nlp_relation.sql, in the same transaction.
-- domain_concept_id_1/2: the loaded vocabulary's concept of the 'Note' domain (the domain of
-- note_nlp rows); relationship_concept_id: the loaded vocabulary's concept of the omop relationship
-- that sql/seeds/fact_relationship_concepts.csv names for the notenlp relation, and of its reverse.
-- 0 where the vocabulary lacks them (the demo vocabulary's domain and relationship tables are empty).
-- parameters: $notes, $relation_seed.
insert into fact_relationship (
    domain_concept_id_1, fact_id_1, domain_concept_id_2, fact_id_2, relationship_concept_id
)
with night_relations as (
    select note_nlp_id_1, note_nlp_id_2, relationship_id
    from note_nlp_relation
    where note_id in (select note_id from read_parquet($notes))
),

seed as (
    select relationship, omop_relationship_id, reverse_relationship_id
    from read_csv($relation_seed, header = true, all_varchar = true)
),

relationship_concepts as (
    select relationship_id, min(relationship_concept_id) as relationship_concept_id
    from relationship
    group by relationship_id
),

note_domain as (
    select coalesce(max(domain_concept_id), 0) as domain_concept_id from domain where domain_id = 'Note'
),

directed as (
    select night_relations.note_nlp_id_1 as fact_id_1, night_relations.note_nlp_id_2 as fact_id_2,
        seed.omop_relationship_id
    from night_relations
    inner join seed on seed.relationship = night_relations.relationship_id
    union all
    select night_relations.note_nlp_id_2 as fact_id_1, night_relations.note_nlp_id_1 as fact_id_2,
        seed.reverse_relationship_id as omop_relationship_id
    from night_relations
    inner join seed on seed.relationship = night_relations.relationship_id
),

final as (
    select distinct
        note_domain.domain_concept_id as domain_concept_id_1,
        directed.fact_id_1,
        note_domain.domain_concept_id as domain_concept_id_2,
        directed.fact_id_2,
        coalesce(relationship_concepts.relationship_concept_id, 0) as relationship_concept_id
    from directed
    cross join note_domain
    left join relationship_concepts on relationship_concepts.relationship_id = directed.omop_relationship_id
)

select * from final;
