-- load one night's validated entities into omop note_nlp, replacing every earlier row of the
-- night's notes (a re-run of the same night therefore never duplicates).
-- note_nlp_id: the official cdm 5.4 ddl declares it integer, so the stage's 63-bit hash of
-- (note_id, start, end, label) is the key of notenlp_note_nlp_key, which hands out dense ids
-- (1, 2, ...) the first time it sees a key and the same id ever after: ids fit 32 bits until
-- 2^31 distinct mentions and are stable across reruns of the same note and system.
-- notenlp_note_nlp_key is created with the other operational tables (sql/ddl/notenlp_operational.sql).
-- $hashed_ids (NOTENLP_NOTE_NLP_IDS=hash, for sites whose note_nlp_id columns are bigint): the 63-bit hash
-- itself is the note_nlp_id (stable by construction) and no dense id is issued.
-- medication attributes (strength, dose, route, ...) are not rows of their own (ohdsi convention:
-- a note_nlp row is a clinical term): their words go into the drug row's term_modifiers, found
-- through the night's attribute relations, with route and unit concepts of the loaded vocabulary;
-- a test row gets the value and unit written right after it. grammar: notenlp.omop (docstring).
-- chr(59) is ';' (sql files keep ';' for ending statements).
-- parameters: $notes (parquet of the night's de-identified notes), $entities (validated entity
-- parquet), $attribute_labels (notenlp.attributes.MEDICATION_ATTRIBUTES, in modifier order),
-- $route_seed, $unit_seed (sql/seeds csv), $nlp_system, $nlp_date, $nlp_datetime.
-- night_relations: the night's validated relations (a temporary table made by the load stage,
-- empty when the night has none).
insert into notenlp_note_nlp_key (note_nlp_key, note_nlp_id)
with entity_keys as (
    select distinct note_nlp_id as note_nlp_key
    from read_parquet($entities)
    where not list_contains($attribute_labels, label) and not $hashed_ids
),

known_keys as (
    select note_nlp_key from notenlp_note_nlp_key
),

issued as (
    select coalesce(max(note_nlp_id), 0) as last_id from notenlp_note_nlp_key
),

new_keys as (
    select entity_keys.note_nlp_key
    from entity_keys
    left join known_keys on known_keys.note_nlp_key = entity_keys.note_nlp_key
    where known_keys.note_nlp_key is null
),

final as (
    select
        new_keys.note_nlp_key,
        issued.last_id + row_number() over (order by new_keys.note_nlp_key) as note_nlp_id
    from new_keys
    cross join issued
)

select * from final;

delete from note_nlp where note_id in (select note_id from read_parquet($notes));

insert into note_nlp (
    note_nlp_id, note_id, section_concept_id, snippet, "offset", lexical_variant, note_nlp_concept_id,
    note_nlp_source_concept_id, nlp_system, nlp_date, nlp_datetime, term_exists, term_temporal, term_modifiers
)
with entities as (
    select * from read_parquet($entities)
),

notes as (
    select note_id, note_text from read_parquet($notes)
),

relations as (
    select note_nlp_id_1, note_nlp_id_2 from night_relations
),

note_nlp_keys as (
    select note_nlp_key, note_nlp_id from notenlp_note_nlp_key
),

routes as (
    select lower(written) as written, snomed_code from read_csv($route_seed, header = true, all_varchar = true)
),

units as (
    select lower(written) as written, ucum_code from read_csv($unit_seed, header = true, all_varchar = true)
),

route_concepts as (
    select concept_code, min(concept_id) as concept_id
    from concept
    where vocabulary_id = 'SNOMED' and domain_id = 'Route' and standard_concept = 'S'
        and coalesce(invalid_reason, '') = ''
    group by concept_code
),

unit_concepts as (
    select concept_code, min(concept_id) as concept_id
    from concept
    where vocabulary_id = 'UCUM' and standard_concept = 'S' and coalesce(invalid_reason, '') = ''
    group by concept_code
),

-- one value per drug and kind: the first written, ';' and '=' (the grammar's own) made spaces
drug_attributes as (
    select
        relations.note_nlp_id_1 as note_nlp_key,
        lower(attribute_rows.label) as kind,
        list_position($attribute_labels, attribute_rows.label) as position,
        arg_min(trim(regexp_replace(attribute_rows.lexical_variant, '[\s\x3b=]+', ' ', 'g')), attribute_rows.start)
            as value
    from relations
    inner join entities as attribute_rows on attribute_rows.note_nlp_id = relations.note_nlp_id_2
    where list_contains($attribute_labels, attribute_rows.label)
    group by all
),

drug_attribute_concepts as (
    select
        drug_attributes.*,
        case when drug_attributes.kind = 'route' then route_concepts.concept_id end as route_concept_id,
        case when drug_attributes.kind in ('strength', 'dose') then unit_concepts.concept_id end as unit_concept_id
    from drug_attributes
    left join routes on routes.written = lower(drug_attributes.value)
    left join route_concepts on route_concepts.concept_code = routes.snomed_code
    left join units on units.written = lower(trim(regexp_replace(drug_attributes.value, '^[0-9.,/ -]+', '')))
    left join unit_concepts on unit_concepts.concept_code = units.ucum_code
),

drug_modifiers as (
    select
        note_nlp_key,
        string_agg(
            concat(
                kind, '=', value,
                case when route_concept_id is not null then concat(chr(59), 'route_concept_id=', route_concept_id) end,
                case when unit_concept_id is not null
                    then concat(chr(59), kind, '_unit_concept_id=', unit_concept_id) end
            ),
            chr(59) order by position
        ) as pairs
    from drug_attribute_concepts
    group by note_nlp_key
),

-- a test's result written right after it: 'Hgb 9.8', 'Cr of 1.2 mg/dL', 'A1c: 7.1%', 'WBC-12.3';
-- a number followed by ':' is a time ('sent at 9:41' never matches: 'at' is not a link word)
test_readings as (
    select
        entities.note_nlp_id as note_nlp_key,
        regexp_extract(
            substr(notes.note_text, entities."end" + 1, 48),
            '^(?:\s*(?:was|is|of|=|:)\s*|\s+|-)(\d+(?:\.\d+)?(?:/\d+(?:\.\d+)?)?)(:?)'
                || '(?:\s*(%|[A-Za-z][A-Za-z0-9/^.\[\]]*))?',
            ['value', 'colon', 'unit']
        ) as reading
    from entities
    inner join notes on notes.note_id = entities.note_id
    where entities.label = 'TEST'
),

test_modifiers as (
    select
        test_readings.note_nlp_key,
        concat(
            'value=', test_readings.reading.value,
            case when units.written is not null
                then concat(chr(59), 'unit=', rtrim(test_readings.reading.unit, '.')) end,
            case when unit_concepts.concept_id is not null
                then concat(chr(59), 'unit_concept_id=', unit_concepts.concept_id) end
        ) as pairs
    from test_readings
    left join units on units.written = lower(rtrim(test_readings.reading.unit, '.'))
    left join unit_concepts on unit_concepts.concept_code = units.ucum_code
    where test_readings.reading.value <> '' and test_readings.reading.colon = ''
),

final as (
    select
        case when $hashed_ids then entities.note_nlp_id else note_nlp_keys.note_nlp_id end as note_nlp_id,
        entities.note_id,
        entities.section_concept_id,
        entities.snippet,
        entities.start::varchar as "offset",
        entities.lexical_variant,
        entities.concept_id as note_nlp_concept_id,
        entities.source_concept_id as note_nlp_source_concept_id,
        $nlp_system as nlp_system,
        $nlp_date::date as nlp_date,
        $nlp_datetime::timestamp as nlp_datetime,
        entities.term_exists,
        entities.term_temporal,
        left(concat_ws(chr(59), entities.term_modifiers, drug_modifiers.pairs, test_modifiers.pairs), 2000)
            as term_modifiers
    from entities
    left join note_nlp_keys on note_nlp_keys.note_nlp_key = entities.note_nlp_id
    left join drug_modifiers on drug_modifiers.note_nlp_key = entities.note_nlp_id
    left join test_modifiers on test_modifiers.note_nlp_key = entities.note_nlp_id
    where not list_contains($attribute_labels, entities.label)
        and ($hashed_ids or note_nlp_keys.note_nlp_id is not null)
)

select * from final;
