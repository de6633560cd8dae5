-- +goose Up
-- What each SSH key last saw of each post: the highest comment ID shown and
-- where the reader stopped (0 to 10000 of the way down). (00003 is left for
-- the replies migration.)
CREATE TABLE visits (
    key       text        NOT NULL,
    post_slug text        NOT NULL,
    seen_id   bigint      NOT NULL,
    position  integer     NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (key, post_slug)
);
CREATE INDEX visits_key_at ON visits (key, at);

-- +goose Down
DROP TABLE visits;
