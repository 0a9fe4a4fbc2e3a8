-- SMS deliverability (issue 14): what Twilio told us about each message, recipients not to
-- text again, opted-out pairs with their audit trail, and halted senders.

-- The delivery status of a sent message, kept forward-only (see domain/deliverability),
-- with the error code of a failed one.
ALTER TABLE "outbound_messages" ADD COLUMN "delivery_status" TEXT;
ALTER TABLE "outbound_messages" ADD COLUMN "error_code" INTEGER;
ALTER TABLE "outbound_messages" ADD COLUMN "delivery_updated_at" TIMESTAMPTZ(3);
CREATE INDEX "outbound_messages_from_phone_error_code_idx" ON "outbound_messages"("from_phone", "error_code", "delivery_updated_at");

-- Every status callback once per (MessageSid, MessageStatus): a duplicate finds its row.
CREATE TABLE "sms_status_events" (
  "message_sid" TEXT NOT NULL,
  "status" TEXT NOT NULL,
  "error_code" INTEGER,
  "source" TEXT NOT NULL DEFAULT 'callback',
  "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "sms_status_events_pkey" PRIMARY KEY ("message_sid", "status")
);

-- A recipient a sender must not text again (a terminal Twilio code), until they text in
-- or an operator clears it.
CREATE TABLE "sms_suppressions" (
  "id" TEXT NOT NULL,
  "from_phone" TEXT NOT NULL,
  "to_phone" TEXT NOT NULL,
  "error_code" INTEGER NOT NULL,
  "reason" TEXT NOT NULL,
  "refused" INTEGER NOT NULL DEFAULT 0,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "sms_suppressions_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "sms_suppressions_from_phone_to_phone_key" ON "sms_suppressions"("from_phone", "to_phone");

-- The opt-out state of a (sender, recipient) pair, and every change to it.
CREATE TABLE "sms_opt_outs" (
  "from_phone" TEXT NOT NULL,
  "to_phone" TEXT NOT NULL,
  "opted_out" BOOLEAN NOT NULL,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "sms_opt_outs_pkey" PRIMARY KEY ("from_phone", "to_phone")
);
CREATE TABLE "sms_opt_out_events" (
  "id" TEXT NOT NULL,
  "from_phone" TEXT NOT NULL,
  "to_phone" TEXT NOT NULL,
  "action" TEXT NOT NULL,
  "source" TEXT NOT NULL,
  "detail" TEXT,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "sms_opt_out_events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "sms_opt_out_events_pair_idx" ON "sms_opt_out_events"("from_phone", "to_phone", "created_at");

-- A sender halted by the campaign breaker (active) or halted before (kept for history).
CREATE TABLE "sms_sender_halts" (
  "from_phone" TEXT NOT NULL,
  "active" BOOLEAN NOT NULL DEFAULT true,
  "error_code" INTEGER NOT NULL,
  "reason" TEXT NOT NULL,
  "halted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "next_probe_at" TIMESTAMPTZ(3) NOT NULL,
  "probe_outbox_id" TEXT,
  "resumed_at" TIMESTAMPTZ(3),
  "resumed_by" TEXT,
  CONSTRAINT "sms_sender_halts_pkey" PRIMARY KEY ("from_phone")
);
