-- The reference app's tables, as `prisma migrate diff` would write them for
-- prisma/schema.prisma (written by hand: see the note at the top of that file).

CREATE TYPE "OnboardingState" AS ENUM ('S1_WELCOME', 'S2_BUSINESS_NAME', 'S3_SERVICE_AREA', 'S4_NUMBER_ALLOCATED', 'S5_CONFIRM_LIVE', 'S9_TEST_CALL', 'COMPLETE');
CREATE TYPE "NumberStatus" AS ENUM ('AVAILABLE', 'ASSIGNED');
CREATE TYPE "NumberRole" AS ENUM ('SYSTEM', 'CLIENT');
CREATE TYPE "ConversationMode" AS ENUM ('ONBOARDING', 'OPERATIONAL');
CREATE TYPE "MessageDirection" AS ENUM ('INBOUND', 'OUTBOUND');

CREATE TABLE "clients" (
    "id" TEXT NOT NULL,
    "phone" TEXT NOT NULL,
    "business_name" TEXT,
    "service_area" TEXT,
    "payment_active" BOOLEAN NOT NULL DEFAULT false,
    "outbound_paused" BOOLEAN NOT NULL DEFAULT false,
    "onboarding_state" "OnboardingState" NOT NULL DEFAULT 'S1_WELCOME',
    "state_entered_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stuck_detected_at" TIMESTAMPTZ(3),
    "stripe_customer_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "clients_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "clients_phone_key" ON "clients"("phone");
CREATE UNIQUE INDEX "clients_stripe_customer_id_key" ON "clients"("stripe_customer_id");
CREATE INDEX "clients_onboarding_state_state_entered_at_idx" ON "clients"("onboarding_state", "state_entered_at");

CREATE TABLE "pool_numbers" (
    "id" TEXT NOT NULL,
    "phone_number" TEXT NOT NULL,
    "status" "NumberStatus" NOT NULL DEFAULT 'AVAILABLE',
    "role" "NumberRole" NOT NULL DEFAULT 'CLIENT',
    "client_id" TEXT,
    "assigned_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "pool_numbers_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "pool_numbers_phone_number_key" ON "pool_numbers"("phone_number");
CREATE UNIQUE INDEX "pool_numbers_client_id_key" ON "pool_numbers"("client_id");
CREATE INDEX "pool_numbers_status_role_idx" ON "pool_numbers"("status", "role");
ALTER TABLE "pool_numbers" ADD CONSTRAINT "pool_numbers_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "customers" (
    "id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "phone" TEXT NOT NULL,
    "name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "customers_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "customers_client_id_phone_key" ON "customers"("client_id", "phone");
ALTER TABLE "customers" ADD CONSTRAINT "customers_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "conversations" (
    "id" TEXT NOT NULL,
    "mode" "ConversationMode" NOT NULL,
    "client_id" TEXT NOT NULL,
    "customer_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "conversations_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "conversations_client_id_customer_id_mode_key" ON "conversations"("client_id", "customer_id", "mode");
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "messages" (
    "id" TEXT NOT NULL,
    "conversation_id" TEXT NOT NULL,
    "direction" "MessageDirection" NOT NULL,
    "body" TEXT NOT NULL,
    "twilio_sid" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "messages_twilio_sid_key" ON "messages"("twilio_sid");
CREATE INDEX "messages_conversation_id_created_at_idx" ON "messages"("conversation_id", "created_at");
ALTER TABLE "messages" ADD CONSTRAINT "messages_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "inbound_events" (
    "id" TEXT NOT NULL,
    "message_sid" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'received',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(3),
    CONSTRAINT "inbound_events_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "inbound_events_message_sid_key" ON "inbound_events"("message_sid");
CREATE INDEX "inbound_events_status_created_at_idx" ON "inbound_events"("status", "created_at");

CREATE TABLE "outbound_messages" (
    "id" TEXT NOT NULL,
    "to_phone" TEXT NOT NULL,
    "from_phone" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "twilio_sid" TEXT,
    "last_error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sending_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),
    "conversation_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "outbound_messages_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "outbound_messages_twilio_sid_key" ON "outbound_messages"("twilio_sid");
CREATE INDEX "outbound_messages_status_next_attempt_at_idx" ON "outbound_messages"("status", "next_attempt_at");

CREATE TABLE "webhook_deliveries" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "webhook_deliveries_provider_event_id_kind_key" ON "webhook_deliveries"("provider", "event_id", "kind");
CREATE INDEX "webhook_deliveries_status_created_at_idx" ON "webhook_deliveries"("status", "created_at");

CREATE TABLE "slack_signals" (
    "id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "user_id" TEXT,
    "text" TEXT NOT NULL,
    "permalink" TEXT,
    "status" TEXT NOT NULL DEFAULT 'stored',
    "result" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "evaluated_at" TIMESTAMPTZ(3),
    CONSTRAINT "slack_signals_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "slack_signals_event_id_key" ON "slack_signals"("event_id");
