-- +goose Up
-- Times are Unix microseconds, UTC.
CREATE TABLE comments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: never reuse an ID, listeners catch up by ID
    post_slug   TEXT    NOT NULL,
    author_name TEXT    NOT NULL,
    author_key  TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    hidden      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX comments_post_slug_id ON comments (post_slug, id);
CREATE INDEX comments_created_at ON comments (created_at);

CREATE TABLE subscribers (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    email             TEXT    NOT NULL,
    email_key         TEXT    NOT NULL UNIQUE, -- lower-cased email: one row per address
    subscribed_by_key TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL
);
CREATE INDEX subscribers_created_at ON subscribers (created_at);

CREATE TABLE author_names (
    key        TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE bans (
    target     TEXT    PRIMARY KEY,
    until      INTEGER, -- NULL: permanent
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE rate_events (
    kind    TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX rate_events_subject_kind_at ON rate_events (subject, kind, at);

-- +goose Down
DROP TABLE rate_events;
DROP TABLE bans;
DROP TABLE author_names;
DROP TABLE subscribers;
DROP TABLE comments;
