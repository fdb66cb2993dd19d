-- HTTP event subscriptions, every consumer's place in each corp's event
-- log (with the lease that lets one node at a time work it), delivery
-- attempts, and the events given up on (get_call_back_failed_result).

CREATE TABLE subscriptions (
	id         TEXT PRIMARY KEY,  -- kind:key
	kind       TEXT NOT NULL,
	key        TEXT NOT NULL,
	corp_id    TEXT NOT NULL,     -- '' for a suite's push
	owner_key  TEXT NOT NULL,
	types      TEXT NOT NULL,     -- JSON array
	token      TEXT NOT NULL,
	aes_key    TEXT NOT NULL,
	url        TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE event_cursors (
	consumer    TEXT NOT NULL,
	corp_id     TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL DEFAULT 0,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (consumer, corp_id)
) WITHOUT ROWID;

CREATE TABLE event_deliveries (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	consumer   TEXT NOT NULL,
	corp_id    TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	event_type TEXT NOT NULL,
	attempt    INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	status     INTEGER NOT NULL,
	latency_ms INTEGER NOT NULL,
	outcome    TEXT NOT NULL,
	error      TEXT NOT NULL,
	payload    TEXT NOT NULL
);
CREATE INDEX event_deliveries_event ON event_deliveries(corp_id, seq);
CREATE INDEX event_deliveries_consumer ON event_deliveries(consumer, id);
CREATE INDEX event_deliveries_at ON event_deliveries(at);

CREATE TABLE failed_events (
	sub_id     TEXT NOT NULL,
	corp_id    TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	type       TEXT NOT NULL,
	event_time INTEGER NOT NULL,
	payload    TEXT NOT NULL,
	PRIMARY KEY (sub_id, corp_id, seq)
) WITHOUT ROWID;

-- Stream mode: a ticket from /v1.0/gateway/connections/open is good for
-- one WebSocket connection within 90 s, on whichever node it reaches
CREATE TABLE stream_tickets (
	ticket     TEXT PRIMARY KEY,
	client_id  TEXT NOT NULL,   -- an app key or a suite key
	corp_id    TEXT NOT NULL,   -- '' for a suite
	info       TEXT NOT NULL,   -- JSON: subscriptions, ua, localIp, extras
	expires_at INTEGER NOT NULL
);
