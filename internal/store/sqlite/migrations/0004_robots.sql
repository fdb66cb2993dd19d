CREATE TABLE robots (
	robot_code TEXT PRIMARY KEY,
	corp_id    TEXT NOT NULL REFERENCES corps(id),
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX robots_corp ON robots(corp_id);

CREATE TABLE chat_robots (
	chat_id    TEXT NOT NULL REFERENCES chats(chat_id),
	robot_code TEXT NOT NULL REFERENCES robots(robot_code),
	added_at   INTEGER NOT NULL,
	PRIMARY KEY (chat_id, robot_code)
) WITHOUT ROWID;

CREATE TABLE webhooks (
	token           TEXT PRIMARY KEY,
	corp_id         TEXT NOT NULL REFERENCES corps(id),
	chat_id         TEXT NOT NULL REFERENCES chats(chat_id),
	name            TEXT NOT NULL,
	secret          TEXT NOT NULL,
	keywords        TEXT NOT NULL,  -- JSON array
	sent            TEXT NOT NULL DEFAULT '[]',  -- JSON array of Unix ms: the rate window
	throttled_until INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL
);
CREATE INDEX webhooks_chat ON webhooks(chat_id, created_at);
