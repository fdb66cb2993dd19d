-- Identifiers compare and sort bytewise (COLLATE "C"), as SQLite's BINARY
-- does, whatever the database's default collation. Times are Unix ms.
-- No schema is named: tables go to the first schema of the search_path.

CREATE TABLE corps (
	id            TEXT COLLATE "C" PRIMARY KEY,
	name          TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	monthly_quota INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE apps (
	app_key         TEXT COLLATE "C" PRIMARY KEY,
	corp_id         TEXT COLLATE "C" NOT NULL REFERENCES corps(id),
	secret          TEXT NOT NULL,
	agent_id        BIGINT NOT NULL,
	name            TEXT NOT NULL,
	scopes          TEXT[] NOT NULL,
	visible_all     BOOLEAN NOT NULL,
	visible_users   TEXT[] NOT NULL,
	ordinary_groups BOOLEAN NOT NULL,
	limits          TEXT NOT NULL DEFAULT '{}',  -- JSON object
	created_at      BIGINT NOT NULL
);
CREATE INDEX apps_corp ON apps(corp_id);

CREATE TABLE users (
	corp_id    TEXT COLLATE "C" NOT NULL REFERENCES corps(id),
	userid     TEXT COLLATE "C" NOT NULL,
	unionid    TEXT COLLATE "C" NOT NULL,
	name       TEXT NOT NULL,
	mobile     TEXT COLLATE "C" NOT NULL,
	title      TEXT NOT NULL,
	job_no     TEXT NOT NULL,
	email      TEXT NOT NULL,
	active     BOOLEAN NOT NULL,
	admin      BOOLEAN NOT NULL,
	dept_ids   BIGINT[] NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (corp_id, userid)
);
CREATE UNIQUE INDEX users_mobile ON users(corp_id, mobile) WHERE mobile <> '';
CREATE UNIQUE INDEX users_unionid ON users(corp_id, unionid);

CREATE TABLE externals (
	corp_id TEXT COLLATE "C" NOT NULL REFERENCES corps(id),
	unionid TEXT COLLATE "C" NOT NULL,
	name    TEXT NOT NULL,
	mobile  TEXT NOT NULL,
	PRIMARY KEY (corp_id, unionid)
);

CREATE TABLE tokens (
	token      TEXT COLLATE "C" PRIMARY KEY,
	app_key    TEXT COLLATE "C" NOT NULL REFERENCES apps(app_key),
	corp_id    TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX tokens_app ON tokens(app_key, expires_at);

-- last_seq numbers the group's messages; version counts the updates of
-- everything else, so a send can check that the row it judged is unchanged.
-- Both change often: the fill factor leaves room for in-page (HOT) updates.
CREATE TABLE chats (
	chat_id               TEXT COLLATE "C" PRIMARY KEY,
	open_conversation_id  TEXT COLLATE "C" NOT NULL UNIQUE,
	corp_id               TEXT COLLATE "C" NOT NULL REFERENCES corps(id),
	name                  TEXT NOT NULL,
	owner                 TEXT COLLATE "C" NOT NULL,
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
	created_at            BIGINT NOT NULL,
	updated_at            BIGINT NOT NULL,
	friend_forbidden      BOOLEAN NOT NULL DEFAULT false,
	last_seq              BIGINT NOT NULL DEFAULT 0,
	version               BIGINT NOT NULL DEFAULT 0
) WITH (fillfactor = 80);
CREATE INDEX chats_corp ON chats(corp_id, created_at);

CREATE TABLE chat_members (
	chat_id   TEXT COLLATE "C" NOT NULL REFERENCES chats(chat_id),
	kind      TEXT COLLATE "C" NOT NULL CHECK (kind IN ('emp', 'ext')),
	member_id TEXT COLLATE "C" NOT NULL,
	role      INTEGER NOT NULL,
	pos       INTEGER NOT NULL,
	joined_at BIGINT NOT NULL,
	nick      TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (chat_id, kind, member_id)
);
CREATE INDEX chat_members_member ON chat_members(kind, member_id);
CREATE INDEX chat_members_pos ON chat_members(chat_id, kind, pos);

-- one row per corp: the last event seq handed out, updated in the
-- transaction that writes the events, so the log has neither gaps nor twins
CREATE TABLE event_seqs (
	corp_id TEXT COLLATE "C" PRIMARY KEY,
	seq     BIGINT NOT NULL
);

CREATE TABLE events (
	corp_id              TEXT COLLATE "C" NOT NULL,
	seq                  BIGINT NOT NULL,
	type                 TEXT NOT NULL,
	chat_id              TEXT COLLATE "C" NOT NULL,
	open_conversation_id TEXT NOT NULL,
	operator             TEXT NOT NULL,
	data                 TEXT NOT NULL,  -- JSON object, as written
	created_at           BIGINT NOT NULL,
	PRIMARY KEY (corp_id, seq)
);

CREATE TABLE messages (
	chat_id     TEXT COLLATE "C" NOT NULL REFERENCES chats(chat_id),
	seq         BIGINT NOT NULL,
	id          TEXT COLLATE "C" NOT NULL,
	corp_id     TEXT COLLATE "C" NOT NULL,
	sender_type TEXT NOT NULL,
	sender      TEXT NOT NULL,
	msgtype     TEXT NOT NULL,
	body        BYTEA NOT NULL,  -- the bytes as sent
	recalled_at BIGINT NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (chat_id, seq)
);
CREATE UNIQUE INDEX messages_id ON messages(id);

CREATE TABLE read_marks (
	chat_id TEXT COLLATE "C" NOT NULL REFERENCES chats(chat_id),
	userid  TEXT COLLATE "C" NOT NULL,
	seq     BIGINT NOT NULL,
	PRIMARY KEY (chat_id, userid)
);

CREATE TABLE media (
	id           TEXT COLLATE "C" PRIMARY KEY,
	corp_id      TEXT COLLATE "C" NOT NULL REFERENCES corps(id),
	type         TEXT NOT NULL,
	digest       TEXT NOT NULL,
	size         BIGINT NOT NULL,
	file_name    TEXT NOT NULL,
	content_type TEXT NOT NULL,
	created_at   BIGINT NOT NULL
);

CREATE TABLE member_tokens (
	token      TEXT COLLATE "C" PRIMARY KEY,
	corp_id    TEXT COLLATE "C" NOT NULL,
	userid     TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	FOREIGN KEY (corp_id, userid) REFERENCES users(corp_id, userid)
);

CREATE TABLE settings (
	key   TEXT COLLATE "C" PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE robots (
	robot_code TEXT COLLATE "C" PRIMARY KEY,
	corp_id    TEXT COLLATE "C" NOT NULL REFERENCES corps(id),
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX robots_corp ON robots(corp_id);

CREATE TABLE chat_robots (
	chat_id    TEXT COLLATE "C" NOT NULL REFERENCES chats(chat_id),
	robot_code TEXT COLLATE "C" NOT NULL REFERENCES robots(robot_code),
	added_at   BIGINT NOT NULL,
	PRIMARY KEY (chat_id, robot_code)
);

-- n keeps insertion order among webhooks created in the same millisecond
CREATE TABLE webhooks (
	token           TEXT COLLATE "C" PRIMARY KEY,
	n               BIGINT GENERATED ALWAYS AS IDENTITY,
	corp_id         TEXT COLLATE "C" NOT NULL REFERENCES corps(id),
	chat_id         TEXT COLLATE "C" NOT NULL REFERENCES chats(chat_id),
	name            TEXT NOT NULL,
	secret          TEXT NOT NULL,
	keywords        TEXT[] NOT NULL,
	sent            BIGINT[] NOT NULL DEFAULT '{}',  -- Unix ms of the sends in the rate window
	throttled_until BIGINT NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL
);
CREATE INDEX webhooks_chat ON webhooks(chat_id, created_at, n);

CREATE TABLE join_codes (
	code       TEXT COLLATE "C" PRIMARY KEY,
	corp_id    TEXT COLLATE "C" NOT NULL,
	chat_id    TEXT COLLATE "C" NOT NULL REFERENCES chats(chat_id),
	sharer     TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE join_requests (
	chat_id    TEXT COLLATE "C" NOT NULL REFERENCES chats(chat_id),
	userid     TEXT COLLATE "C" NOT NULL,
	code       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (chat_id, userid)
);
