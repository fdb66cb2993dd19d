CREATE TABLE messages (
	chat_id     TEXT NOT NULL REFERENCES chats(chat_id),
	seq         INTEGER NOT NULL,
	id          TEXT NOT NULL,
	corp_id     TEXT NOT NULL,
	sender_type TEXT NOT NULL,
	sender      TEXT NOT NULL,
	msgtype     TEXT NOT NULL,
	body        TEXT NOT NULL,
	recalled_at INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_id ON messages(id);

CREATE TABLE read_marks (
	chat_id TEXT NOT NULL REFERENCES chats(chat_id),
	userid  TEXT NOT NULL,
	seq     INTEGER NOT NULL,
	PRIMARY KEY (chat_id, userid)
) WITHOUT ROWID;

CREATE TABLE media (
	id           TEXT PRIMARY KEY,
	corp_id      TEXT NOT NULL REFERENCES corps(id),
	type         TEXT NOT NULL,
	digest       TEXT NOT NULL,
	size         INTEGER NOT NULL,
	file_name    TEXT NOT NULL,
	content_type TEXT NOT NULL,
	created_at   INTEGER NOT NULL
);
