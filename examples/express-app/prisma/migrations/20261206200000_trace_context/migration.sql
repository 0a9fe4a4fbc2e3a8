-- Traces that follow a message (issue 15): the W3C traceparent of the step that wrote the
-- row (the webhook for an inbox row; the processing, then the send, for an outbox row), so
-- the next step, in another request or job, starts its span with a link to it.
ALTER TABLE "inbound_events" ADD COLUMN "traceparent" TEXT;
ALTER TABLE "outbound_messages" ADD COLUMN "traceparent" TEXT;
