-- The SMS hot path (issue 12) writes a message's state change and its inbox row in ONE
-- statement (src/db/inbound-statements.ts). When the inbox row turns out to be another
-- delivery's, the whole statement must fail so the state change is undone with it; plain
-- SQL has no RAISE, so the upsert calls this. SQLSTATE HA001 tells the app "already recorded".
CREATE OR REPLACE FUNCTION app_refuse(reason TEXT) RETURNS TEXT
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'HA001', MESSAGE = reason;
END
$$;
