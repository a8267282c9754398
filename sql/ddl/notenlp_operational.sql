-- notenlp's own operational tables, beside the omop tables (documented in docs/tables.md).

-- rows a stage could not process: reason only, never note text or phi.
create table if not exists notenlp_quarantine (
    run_date date not null,
    stage varchar not null,
    record_key varchar not null,
    reason varchar not null,
    detail varchar null
);

-- one row per stage per night: what went in, what came out, how long it took.
-- rows_in = rows_out + rows_quarantined + rows_skipped (notes unchanged since an earlier night).
create table if not exists notenlp_run_log (
    run_date date not null,
    stage varchar not null,
    started_at timestamp not null,
    finished_at timestamp not null,
    rows_in bigint not null,
    rows_out bigint not null,
    rows_quarantined bigint not null,
    rows_skipped bigint not null,
    nlp_system varchar null,
    error varchar null
);
-- warehouses made before the error column: a failed stage's cause (an exception class, never row text)
alter table notenlp_run_log add column if not exists error varchar;

-- phi found per type per night: counts only.
create table if not exists notenlp_phi_summary (
    run_date date not null,
    phi_type varchar not null,
    n bigint not null
);

-- incremental state: which text of which note was processed by which nlp_system, and when.
create table if not exists notenlp_note_state (
    note_id bigint not null,
    text_hash varchar(64) not null,
    nlp_system varchar(250) not null,
    run_date date not null
);

-- the dense note_nlp_id of each mention key (the stage's 63-bit hash of note, span and label): handed out
-- by sql/etl/insert_note_nlp.sql the first time a key is seen, the same ever after.
create table if not exists notenlp_note_nlp_key (
    note_nlp_key bigint not null primary key,
    note_nlp_id bigint not null unique
);
