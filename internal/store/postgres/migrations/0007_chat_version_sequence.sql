-- A group's version comes from one sequence, so no row ever takes a version
-- that any row of the same chatid had before, even after the group was
-- deleted (a reset, a deleted corp) and made again: a node that kept a
-- group's header with its version may then trust an equal version to mean
-- an unchanged header. The sequence is owned by no column, so TRUNCATE …
-- RESTART IDENTITY leaves it running.
CREATE SEQUENCE chat_versions;
UPDATE chats SET version = nextval('chat_versions');
ALTER TABLE chats ALTER COLUMN version SET DEFAULT nextval('chat_versions');
