-- +goose Up
-- Double opt-in. Addresses stored before it existed never confirmed, so they
-- start pending and get no mail until they confirm or the operator imports them.
ALTER TABLE subscribers
    ADD COLUMN status             text        NOT NULL DEFAULT 'pending',
    ADD COLUMN confirmed_at       timestamptz,
    ADD COLUMN code_hash          text,        -- sha256 of the mailed code
    ADD COLUMN token_hash         text,        -- sha256 of the mailed link's token
    ADD COLUMN confirm_expires_at timestamptz,
    ADD COLUMN confirm_mailed_at  timestamptz, -- the per-address mail window
    ADD COLUMN bounces            integer     NOT NULL DEFAULT 0;
CREATE INDEX subscribers_code_hash ON subscribers (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX subscribers_token_hash ON subscribers (token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX subscribers_confirmed ON subscribers (id) WHERE status = 'confirmed';

-- One row: when the newsletter first looked at the posts. Posts seen then
-- are the baseline and never mailed.
CREATE TABLE newsletter_state (
    id         integer     PRIMARY KEY CHECK (id = 1),
    started_at timestamptz NOT NULL
);

-- A post is published once for all replicas: the first to see it inserts it.
CREATE TABLE newsletter_posts (
    slug         text        PRIMARY KEY,
    title        text        NOT NULL,
    body         text        NOT NULL,
    post_date    timestamptz NOT NULL,
    published_at timestamptz NOT NULL,
    baseline     boolean     NOT NULL
);

-- The outbox: one row per (post, subscriber). due_at is when a queued row
-- may be tried, or when a claimed ('sending') row's claim lapses.
CREATE TABLE deliveries (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_slug     text        NOT NULL REFERENCES newsletter_posts (slug) ON DELETE CASCADE,
    subscriber_id bigint      NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    state         text        NOT NULL, -- queued, sending, sent, failed, cancelled
    due_at        timestamptz NOT NULL,
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    sent_at       timestamptz,
    unsub_hash    text,                 -- sha256 of the sent mail's unsubscribe token
    UNIQUE (post_slug, subscriber_id)
);
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE state IN ('queued', 'sending');
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
CREATE INDEX deliveries_unsub_hash ON deliveries (unsub_hash) WHERE unsub_hash IS NOT NULL;

-- The global send rate: the next free slot, shared by every replica.
CREATE TABLE mail_rate (
    id      integer     PRIMARY KEY CHECK (id = 1),
    next_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE mail_rate;
DROP TABLE deliveries;
DROP TABLE newsletter_posts;
DROP TABLE newsletter_state;
DROP INDEX subscribers_confirmed;
DROP INDEX subscribers_token_hash;
DROP INDEX subscribers_code_hash;
ALTER TABLE subscribers
    DROP COLUMN status, DROP COLUMN confirmed_at, DROP COLUMN code_hash, DROP COLUMN token_hash,
    DROP COLUMN confirm_expires_at, DROP COLUMN confirm_mailed_at, DROP COLUMN bounces;
