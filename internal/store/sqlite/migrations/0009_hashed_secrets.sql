-- Bearer secrets are kept as their SHA-256 (hex) from now on: the token and
-- code columns hold hashes. Values issued before keep working because they
-- are hashed here. dingchat_sha256 is registered by the store.
UPDATE tokens SET token = dingchat_sha256(token);
ALTER TABLE tokens ADD COLUMN salt TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
CREATE INDEX tokens_app_key ON tokens(app_key, key_id, expires_at);

UPDATE suite_tokens SET token = dingchat_sha256(token);
ALTER TABLE suite_tokens ADD COLUMN salt TEXT NOT NULL DEFAULT '';
ALTER TABLE suite_tokens ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

UPDATE member_tokens SET token = dingchat_sha256(token);
ALTER TABLE member_tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX member_tokens_user ON member_tokens(corp_id, userid);

UPDATE join_codes SET code = dingchat_sha256(code);
ALTER TABLE join_codes ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX join_codes_expiry ON join_codes(expires_at) WHERE expires_at > 0;
UPDATE join_requests SET code = dingchat_sha256(code);

UPDATE settings SET key = 'admin_token_hash', value = dingchat_sha256(value) WHERE key = 'admin_token';

-- the per-corp media quota sums a corp's files at each upload
CREATE INDEX media_corp ON media(corp_id, size);
