CREATE TABLE member_tokens (
	token      TEXT PRIMARY KEY,
	corp_id    TEXT NOT NULL,
	userid     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	FOREIGN KEY (corp_id, userid) REFERENCES users(corp_id, userid)
);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
