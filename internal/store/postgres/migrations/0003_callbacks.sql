-- HTTP event subscriptions, every consumer's place in each corp's event
-- log (with the lease that lets one node at a time work it), delivery
-- attempts, and the events given up on (get_call_back_failed_result).

CREATE TABLE subscriptions (
	id         TEXT COLLATE "C" PRIMARY KEY,  -- kind:key
	kind       TEXT NOT NULL,
	key        TEXT COLLATE "C" NOT NULL,
	corp_id    TEXT COLLATE "C" NOT NULL,     -- '' for a suite's push
	owner_key  TEXT NOT NULL,
	types      TEXT NOT NULL,     -- JSON array
	token      TEXT NOT NULL,
	aes_key    TEXT NOT NULL,
	url        TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE event_cursors (
	consumer    TEXT COLLATE "C" NOT NULL,
	corp_id     TEXT COLLATE "C" NOT NULL,
	seq         BIGINT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     BIGINT NOT NULL DEFAULT 0,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (consumer, corp_id)
);

CREATE TABLE event_deliveries (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	consumer   TEXT COLLATE "C" NOT NULL,
	corp_id    TEXT COLLATE "C" NOT NULL,
	seq        BIGINT NOT NULL,
	event_type TEXT NOT NULL,
	attempt    INTEGER NOT NULL,
	at         BIGINT NOT NULL,
	status     INTEGER NOT NULL,
	latency_ms BIGINT NOT NULL,
	outcome    TEXT NOT NULL,
	error      TEXT NOT NULL,
	payload    TEXT NOT NULL
);
CREATE INDEX event_deliveries_event ON event_deliveries(corp_id, seq);
CREATE INDEX event_deliveries_consumer ON event_deliveries(consumer, id);
CREATE INDEX event_deliveries_at ON event_deliveries(at);

CREATE TABLE failed_events (
	sub_id     TEXT COLLATE "C" NOT NULL,
	corp_id    TEXT COLLATE "C" NOT NULL,
	seq        BIGINT NOT NULL,
	type       TEXT NOT NULL,
	event_time BIGINT NOT NULL,
	payload    TEXT NOT NULL,
	PRIMARY KEY (sub_id, corp_id, seq)
);

-- Stream mode: a ticket from /v1.0/gateway/connections/open is good for
-- one WebSocket connection within 90 s, on whichever node it reaches
CREATE TABLE stream_tickets (
	ticket     TEXT COLLATE "C" PRIMARY KEY,
	client_id  TEXT NOT NULL,   -- an app key or a suite key
	corp_id    TEXT NOT NULL,   -- '' for a suite
	info       TEXT NOT NULL,   -- JSON: subscriptions, ua, localIp, extras
	expires_at BIGINT NOT NULL
);
