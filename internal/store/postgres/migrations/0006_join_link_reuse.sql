-- A join link is handed out again while it lasts: its code derives from the
-- server's join-link key (key_id names it) and a salt kept here. Codes kept
-- before have neither and keep working until they expire; they are never
-- handed out again.
ALTER TABLE join_codes ADD COLUMN salt TEXT NOT NULL DEFAULT '';
ALTER TABLE join_codes ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
CREATE INDEX join_codes_sharer ON join_codes(chat_id, sharer, expires_at);
