-- +goose Up
-- What each SSH key last saw of each post: the highest comment ID shown and
-- where the reader stopped (0 to 10000 of the way down). Times are Unix
-- microseconds, UTC. (00004 is left for the replies migration.)
CREATE TABLE visits (
    key       TEXT    NOT NULL,
    post_slug TEXT    NOT NULL,
    seen_id   INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (key, post_slug)
) WITHOUT ROWID;
CREATE INDEX visits_key_at ON visits (key, at);

-- +goose Down
DROP TABLE visits;
