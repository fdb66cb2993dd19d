CREATE TABLE corps (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE apps (
	app_key         TEXT PRIMARY KEY,
	corp_id         TEXT NOT NULL REFERENCES corps(id),
	secret          TEXT NOT NULL,
	agent_id        INTEGER NOT NULL,
	name            TEXT NOT NULL,
	scopes          TEXT NOT NULL,  -- JSON array
	visible_all     INTEGER NOT NULL,
	visible_users   TEXT NOT NULL,  -- JSON array
	ordinary_groups INTEGER NOT NULL,
	created_at      INTEGER NOT NULL
);
CREATE INDEX apps_corp ON apps(corp_id);

CREATE TABLE users (
	corp_id    TEXT NOT NULL REFERENCES corps(id),
	userid     TEXT NOT NULL,
	unionid    TEXT NOT NULL,
	name       TEXT NOT NULL,
	mobile     TEXT NOT NULL,
	title      TEXT NOT NULL,
	job_no     TEXT NOT NULL,
	email      TEXT NOT NULL,
	active     INTEGER NOT NULL,
	admin      INTEGER NOT NULL,
	dept_ids   TEXT NOT NULL,  -- JSON array
	created_at INTEGER NOT NULL,
	PRIMARY KEY (corp_id, userid)
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_mobile ON users(corp_id, mobile) WHERE mobile <> '';
CREATE UNIQUE INDEX users_unionid ON users(corp_id, unionid);

CREATE TABLE externals (
	corp_id TEXT NOT NULL REFERENCES corps(id),
	unionid TEXT NOT NULL,
	name    TEXT NOT NULL,
	mobile  TEXT NOT NULL,
	PRIMARY KEY (corp_id, unionid)
) WITHOUT ROWID;

CREATE TABLE tokens (
	token      TEXT PRIMARY KEY,
	app_key    TEXT NOT NULL REFERENCES apps(app_key),
	corp_id    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX tokens_app ON tokens(app_key, expires_at);

CREATE TABLE chats (
	chat_id               TEXT PRIMARY KEY,
	open_conversation_id  TEXT NOT NULL UNIQUE,
	corp_id               TEXT NOT NULL REFERENCES corps(id),
	name                  TEXT NOT NULL,
	owner                 TEXT NOT NULL,
	owner_type            TEXT NOT NULL,
	conversation_tag      INTEGER NOT NULL,
	icon                  TEXT NOT NULL,
	show_history_type     INTEGER NOT NULL,
	searchable            INTEGER NOT NULL,
	validation_type       INTEGER NOT NULL,
	mention_all_authority INTEGER NOT NULL,
	management_type       INTEGER NOT NULL,
	chat_banned_type      INTEGER NOT NULL,
	status                INTEGER NOT NULL,
	creator_app           TEXT NOT NULL,
	member_count          INTEGER NOT NULL,
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL
);
CREATE INDEX chats_corp ON chats(corp_id, created_at);

CREATE TABLE chat_members (
	chat_id   TEXT NOT NULL REFERENCES chats(chat_id),
	kind      TEXT NOT NULL CHECK (kind IN ('emp', 'ext')),
	member_id TEXT NOT NULL,
	role      INTEGER NOT NULL,
	pos       INTEGER NOT NULL,
	joined_at INTEGER NOT NULL,
	PRIMARY KEY (chat_id, kind, member_id)
) WITHOUT ROWID;
CREATE INDEX chat_members_member ON chat_members(kind, member_id);

CREATE TABLE events (
	corp_id              TEXT NOT NULL,
	seq                  INTEGER NOT NULL,
	type                 TEXT NOT NULL,
	chat_id              TEXT NOT NULL,
	open_conversation_id TEXT NOT NULL,
	operator             TEXT NOT NULL,
	data                 TEXT NOT NULL,
	created_at           INTEGER NOT NULL,
	PRIMARY KEY (corp_id, seq)
) WITHOUT ROWID;
