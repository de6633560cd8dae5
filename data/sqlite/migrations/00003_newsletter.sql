-- +goose Up
-- Double opt-in. Addresses stored before it existed never confirmed, so they
-- start pending and get no mail until they confirm or the operator imports them.
ALTER TABLE subscribers ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE subscribers ADD COLUMN confirmed_at INTEGER;
ALTER TABLE subscribers ADD COLUMN code_hash TEXT;          -- sha256 of the mailed code
ALTER TABLE subscribers ADD COLUMN token_hash TEXT;         -- sha256 of the mailed link's token
ALTER TABLE subscribers ADD COLUMN confirm_expires_at INTEGER;
ALTER TABLE subscribers ADD COLUMN confirm_mailed_at INTEGER; -- the per-address mail window
ALTER TABLE subscribers ADD COLUMN bounces INTEGER NOT NULL DEFAULT 0;
CREATE INDEX subscribers_code_hash ON subscribers (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX subscribers_token_hash ON subscribers (token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX subscribers_confirmed ON subscribers (id) WHERE status = 'confirmed';

-- One row: when the newsletter first looked at the posts. Posts seen then
-- are the baseline and never mailed.
CREATE TABLE newsletter_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    started_at INTEGER NOT NULL
);

-- A post is published once: the first to see it inserts it.
CREATE TABLE newsletter_posts (
    slug         TEXT    PRIMARY KEY,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    post_date    INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    baseline     INTEGER NOT NULL
) WITHOUT ROWID;

-- The outbox: one row per (post, subscriber). due_at is when a queued row
-- may be tried, or when a claimed ('sending') row's claim lapses.
CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    post_slug     TEXT    NOT NULL REFERENCES newsletter_posts (slug) ON DELETE CASCADE,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    state         TEXT    NOT NULL, -- queued, sending, sent, failed, cancelled
    due_at        INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    sent_at       INTEGER,
    unsub_hash    TEXT,             -- sha256 of the sent mail's unsubscribe token
    UNIQUE (post_slug, subscriber_id)
);
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE state IN ('queued', 'sending');
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
CREATE INDEX deliveries_unsub_hash ON deliveries (unsub_hash) WHERE unsub_hash IS NOT NULL;

-- The global send rate: the next free slot, shared by every process.
CREATE TABLE mail_rate (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    next_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE mail_rate;
DROP TABLE deliveries;
DROP TABLE newsletter_posts;
DROP TABLE newsletter_state;
DROP INDEX subscribers_confirmed;
DROP INDEX subscribers_token_hash;
DROP INDEX subscribers_code_hash;
ALTER TABLE subscribers DROP COLUMN bounces;
ALTER TABLE subscribers DROP COLUMN confirm_mailed_at;
ALTER TABLE subscribers DROP COLUMN confirm_expires_at;
ALTER TABLE subscribers DROP COLUMN token_hash;
ALTER TABLE subscribers DROP COLUMN code_hash;
ALTER TABLE subscribers DROP COLUMN confirmed_at;
ALTER TABLE subscribers DROP COLUMN status;
