-- +goose Up
CREATE TABLE comments (
    -- IDs only grow and are never reused: listeners catch up by ID.
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_slug   text        NOT NULL,
    author_name text        NOT NULL,
    author_key  text        NOT NULL,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    hidden      boolean     NOT NULL DEFAULT false
);
CREATE INDEX comments_post_slug_id ON comments (post_slug, id);
CREATE INDEX comments_created_at ON comments (created_at);

CREATE TABLE subscribers (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email             text        NOT NULL,
    subscribed_by_key text        NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL
);
-- One row per address, however it is cased.
CREATE UNIQUE INDEX subscribers_lower_email ON subscribers (lower(email));
CREATE INDEX subscribers_created_at ON subscribers (created_at);

CREATE TABLE author_names (
    key        text        PRIMARY KEY,
    name       text        NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE bans (
    target     text        PRIMARY KEY,
    until      timestamptz, -- NULL: permanent
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE rate_events (
    kind    text        NOT NULL,
    subject text        NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX rate_events_subject_kind_at ON rate_events (subject, kind, at);

-- +goose Down
DROP TABLE rate_events;
DROP TABLE bans;
DROP TABLE author_names;
DROP TABLE subscribers;
DROP TABLE comments;
