ALTER TABLE chats ADD COLUMN friend_forbidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_members ADD COLUMN nick TEXT NOT NULL DEFAULT '';

CREATE TABLE join_codes (
	code       TEXT PRIMARY KEY,
	corp_id    TEXT NOT NULL,
	chat_id    TEXT NOT NULL REFERENCES chats(chat_id),
	sharer     TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE join_requests (
	chat_id    TEXT NOT NULL REFERENCES chats(chat_id),
	userid     TEXT NOT NULL,
	code       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (chat_id, userid)
) WITHOUT ROWID;
