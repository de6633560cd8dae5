-- +goose Up
-- Replies and edits. reply_to is the comment answered (0: none); it has no
-- foreign key because retention deletes old comments outright, and a reply
-- whose comment is gone shows at the top level. A comment deleted while it
-- has replies stays as a placeholder (deleted, without text or author), so
-- that they keep their context.
ALTER TABLE comments
    ADD COLUMN reply_to  bigint      NOT NULL DEFAULT 0,
    ADD COLUMN edited_at timestamptz,
    ADD COLUMN deleted   boolean     NOT NULL DEFAULT false;
CREATE INDEX comments_reply_to ON comments (reply_to) WHERE reply_to <> 0;

-- +goose Down
DROP INDEX comments_reply_to;
ALTER TABLE comments DROP COLUMN deleted, DROP COLUMN edited_at, DROP COLUMN reply_to;
