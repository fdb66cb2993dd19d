-- version counts the updates of a group's row, members and bound apps (not
-- its messages), so a node that keeps a group for reads can tell it is
-- unchanged with one look-up.
ALTER TABLE chats ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
