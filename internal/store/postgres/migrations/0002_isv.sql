-- ISV suites, the corps that authorised them, their tokens, and the
-- micro-apps bound to groups with chat/bind.

-- set on the app that acts for a suite in an authorising corp
ALTER TABLE apps ADD COLUMN suite_key TEXT COLLATE "C" NOT NULL DEFAULT '';

CREATE TABLE suites (
	suite_key  TEXT COLLATE "C" PRIMARY KEY,
	secret     TEXT NOT NULL,
	ticket     TEXT NOT NULL,  -- the current suite ticket; '' until declared or minted
	custom     BOOLEAN NOT NULL,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

-- agentId and scopes live on the authorisation's app
CREATE TABLE suite_auths (
	suite_key      TEXT COLLATE "C" NOT NULL REFERENCES suites(suite_key),
	corp_id        TEXT COLLATE "C" NOT NULL REFERENCES corps(id),
	app_key        TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES apps(app_key),
	permanent_code TEXT NOT NULL,
	created_at     BIGINT NOT NULL,
	PRIMARY KEY (suite_key, corp_id)
);

CREATE TABLE suite_tokens (
	token      TEXT COLLATE "C" PRIMARY KEY,
	suite_key  TEXT COLLATE "C" NOT NULL REFERENCES suites(suite_key),
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX suite_tokens_suite ON suite_tokens(suite_key, expires_at);

CREATE TABLE chat_apps (
	chat_id   TEXT COLLATE "C" NOT NULL REFERENCES chats(chat_id),
	agent_id  BIGINT NOT NULL,
	suite_key TEXT COLLATE "C" NOT NULL,
	corp_id   TEXT COLLATE "C" NOT NULL,
	pos       INTEGER NOT NULL,  -- binding order
	bound_at  BIGINT NOT NULL,
	PRIMARY KEY (chat_id, agent_id)
);
-- one suite binds a group once
CREATE UNIQUE INDEX chat_apps_suite ON chat_apps(chat_id, suite_key);
