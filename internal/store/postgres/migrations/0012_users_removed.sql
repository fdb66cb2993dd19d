-- Creates remember which user ids their check found (knownusers). Every
-- statement that can take users away stamps users_removed, in its own
-- transaction, with a number later than any before; a create that trusts
-- what it remembered hands the stamp it remembered under to
-- dingchat_check_users, which checks the ids after all when the stamp
-- moved. A removal committed before the create's statement began is
-- therefore always seen, whichever node or client made it. The numbers
-- come from a sequence, so a stamp never goes back, even after a reset
-- empties the table.
CREATE SEQUENCE users_removed_seq;
CREATE TABLE users_removed (
	one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
	n   BIGINT NOT NULL
);
-- The schema is named: a truncate may come from a session whose search
-- path does not hold it. nextval in DO UPDATE runs once the row is locked,
-- so of two removals the one committing later leaves the later stamp.
CREATE FUNCTION dingchat_users_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('INSERT INTO %1$I.users_removed (one, n) VALUES (true, nextval(%2$L))
		ON CONFLICT (one) DO UPDATE SET n = nextval(%2$L)', TG_TABLE_SCHEMA, quote_ident(TG_TABLE_SCHEMA) || '.users_removed_seq');
	RETURN NULL;
END $$;
CREATE TRIGGER users_removed AFTER DELETE OR UPDATE OF corp_id, userid ON users
	FOR EACH STATEMENT EXECUTE FUNCTION dingchat_users_removed();
CREATE TRIGGER users_truncated AFTER TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION dingchat_users_removed();

-- known is the stamp the caller's ids were found under, or NULL when it
-- does not know them all; the answer is the stamp now (0 before any
-- removal), which the caller remembers the ids under once the create
-- commits.
CREATE FUNCTION dingchat_check_users(corp TEXT, ids TEXT[], known BIGINT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
	removed BIGINT;
BEGIN
	SELECT n INTO removed FROM users_removed;
	removed := COALESCE(removed, 0);
	IF known IS DISTINCT FROM removed THEN
		PERFORM dingchat_check_users(corp, ids);
	END IF;
	RETURN removed;
END $$;
