-- Every change of a group's version, and a group's removal, is announced on
-- the schema's channel dingchat_groups_<first 12 bytes of sha256(schema), in
-- hex> with the chatid as payload ('*' when chats is truncated by a reset).
-- A notification is sent by the commit of the transaction that changed the
-- row, whichever node or client made it, so a node that listens may answer
-- GroupVersion from memory (versions.go) and still see every change.
CREATE FUNCTION chat_version_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('dingchat_groups_' || encode(substr(sha256(convert_to(TG_TABLE_SCHEMA, 'UTF8')), 1, 12), 'hex'),
		CASE WHEN TG_OP = 'TRUNCATE' THEN '*' ELSE OLD.chat_id END);
	RETURN NULL;
END $$;
-- OF version: sends, which move only last_seq, queue no trigger event
CREATE TRIGGER chats_version_notice AFTER UPDATE OF version OR DELETE ON chats
	FOR EACH ROW EXECUTE FUNCTION chat_version_notice();
CREATE TRIGGER chats_truncate_notice AFTER TRUNCATE ON chats
	FOR EACH STATEMENT EXECUTE FUNCTION chat_version_notice();
