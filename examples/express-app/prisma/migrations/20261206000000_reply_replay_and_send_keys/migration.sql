-- The reply decided for an inbound SMS, kept with its inbox row so a redelivery (when the
-- idempotency record is gone: Redis restarted empty, expired) gets the same answer instead
-- of a holding text; reply_via says how it travelled ('twiml' or 'outbox').
ALTER TABLE "inbound_events" ADD COLUMN "reply" TEXT;
ALTER TABLE "inbound_events" ADD COLUMN "reply_via" TEXT;

-- A send that must happen once per provider event (a missed call's text, keyed on its
-- CallSid): the database refuses a second row, whatever the idempotency store remembers.
ALTER TABLE "outbound_messages" ADD COLUMN "send_key" TEXT;
CREATE UNIQUE INDEX "outbound_messages_send_key_key" ON "outbound_messages"("send_key");
