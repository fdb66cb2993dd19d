-- A staff member's groups were read through an index on chat_members(kind,
-- member_id). A create put one entry in each of its members' ranges: forty
-- seeks from the root and forty pages written for one group, most of a
-- create's writing. member_chats holds the same pairs, filled in sorted runs:
-- a create only names its group in member_chats_pending, and the writer
-- moves the members of the pending groups into member_chats once enough have
-- gathered (group.go). A member's groups are those two read together.
-- SQLite only; PostgreSQL keeps its index.
CREATE TABLE member_chats (
	kind      TEXT NOT NULL,
	member_id TEXT NOT NULL,
	chat_id   TEXT NOT NULL, -- chats(chat_id), unenforced: control.go
	PRIMARY KEY (kind, member_id, chat_id)
) WITHOUT ROWID;
CREATE TABLE member_chats_pending (
	chat_id TEXT PRIMARY KEY -- chats(chat_id), unenforced: control.go
) WITHOUT ROWID;
INSERT INTO member_chats (kind, member_id, chat_id)
	SELECT kind, member_id, chat_id FROM chat_members ORDER BY kind, member_id, chat_id;
DROP INDEX chat_members_member;
