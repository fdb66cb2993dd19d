-- A create checks in its own write that its staff members are users of the
-- corp, instead of asking in a round trip of its own before it. The first
-- unknown id, in list order, is the error's detail (SQLSTATE DCU01).
CREATE FUNCTION dingchat_check_users(corp TEXT, ids TEXT[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	missing TEXT;
BEGIN
	SELECT x.id INTO missing FROM unnest(ids) WITH ORDINALITY AS x(id, ord)
		WHERE NOT EXISTS (SELECT 1 FROM users WHERE corp_id = corp AND userid = x.id)
		ORDER BY x.ord LIMIT 1;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'userid % is not in the corp', missing USING ERRCODE = 'DCU01', DETAIL = missing;
	END IF;
END $$;
