-- Vigie's ClickHouse archive schema (ClickHouse 18.16 and later).
-- Generated from archive/archive_clickhouse.go by
--   go test ./archive -run TestSchemaFile -update
-- Vigie applies it itself at start; this file is for reading and for
-- creating the tables by hand: clickhouse-client -d DB --multiquery < schema.sql

CREATE TABLE IF NOT EXISTS schema_migrations (
    version    UInt32,
    applied_at DateTime
) ENGINE = MergeTree
ORDER BY version;

-- Migration 1

CREATE TABLE IF NOT EXISTS mentions (
    event_id         Int64,
    source           String,
    id               String,
    version          UInt32,
    created_at       DateTime,
    created_ms       Int64,
    received_at      DateTime,
    received_ms      Int64,
    lang             String,
    sentiment        Float32,
    label            String,
    polarity         Int8,
    intent           String,
    queue            String,
    priority         String,
    tags             Array(String),
    competitor       UInt8,
    author_id        String,
    author_handle    String,
    author_followers Int64,
    influence        UInt8,
    dropped          UInt8,
    deleted          UInt8,
    ticket_id        Int64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (received_at, source, id, version);

CREATE TABLE IF NOT EXISTS desk_events (
    event_id          Int64,
    ticket_id         Int64,
    type              String,
    change            String,
    at                DateTime,
    at_ms             Int64,
    ticket_created_at DateTime,
    ticket_created_ms Int64,
    queue             String,
    source            String,
    agent             String,
    assignee          String,
    priority          String,
    status            String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ticket_created_at)
ORDER BY (ticket_created_at, ticket_id, event_id);

CREATE TABLE IF NOT EXISTS archive_cursor (
    name       String,
    seq        Int64,
    written_at DateTime
) ENGINE = ReplacingMergeTree
ORDER BY name;

-- Migration 2

CREATE TABLE IF NOT EXISTS audit (
    seq        Int64,
    at         DateTime,
    at_ms      Int64,
    actor      String,
    actor_role String,
    via        String,
    action     String,
    target     String,
    detail     String,
    remote_ip  String,
    request_id String,
    prev_hash  String,
    hash       String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY seq;

-- Migration 3

CREATE TABLE IF NOT EXISTS csat_ratings (
    event_id  Int64,
    ticket_id Int64,
    survey_id Int64,
    queue     String,
    agent     String,
    source    String,
    rating    UInt8,
    rated_at  DateTime,
    rated_ms  Int64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(rated_at)
ORDER BY (rated_at, ticket_id);
