-- @hardening/alerting's tables (alert dedup claims, history, SMS receipts), copied from the
-- package's migration 20261126100000_alerting.
-- @hardening/alerting: the tables behind createPrismaAlertStore. Keep in step with
-- prisma/alerting.prisma (the models users paste into their schema).

-- CreateTable
CREATE TABLE "alert_logs" (
    "id" TEXT NOT NULL,
    "alert_type" TEXT NOT NULL,
    "alert_key" TEXT NOT NULL,
    "alert_id" TEXT NOT NULL,
    "resource_id" TEXT,
    "severity" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "claimed_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "delivered_at" TIMESTAMPTZ(3),
    "sinks" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "escalated_at" TIMESTAMPTZ(3),
    "resolved_at" TIMESTAMPTZ(3),
    "occurrences" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "alert_logs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_history" (
    "id" BIGSERIAL NOT NULL,
    "alert_id" TEXT NOT NULL,
    "alert_type" TEXT NOT NULL,
    "alert_key" TEXT NOT NULL,
    "resource_id" TEXT,
    "severity" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "sinks" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "detail" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "alert_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_deliveries" (
    "delivery_id" TEXT NOT NULL,
    "alert_id" TEXT NOT NULL,
    "alert_type" TEXT NOT NULL,
    "alert_key" TEXT NOT NULL,
    "sink" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,
    "deadline_at" TIMESTAMPTZ(3) NOT NULL,
    "settled_at" TIMESTAMPTZ(3),

    CONSTRAINT "alert_deliveries_pkey" PRIMARY KEY ("delivery_id")
);

-- CreateIndex
CREATE INDEX "alert_logs_alert_type_idx" ON "alert_logs"("alert_type");

-- CreateIndex
CREATE INDEX "alert_logs_delivered_at_idx" ON "alert_logs"("delivered_at");

-- CreateIndex
CREATE INDEX "alert_logs_resource_id_severity_idx" ON "alert_logs"("resource_id", "severity");

-- CreateIndex
CREATE UNIQUE INDEX "alert_logs_alert_type_alert_key_key" ON "alert_logs"("alert_type", "alert_key");

-- CreateIndex
CREATE INDEX "alert_history_created_at_idx" ON "alert_history"("created_at");

-- CreateIndex
CREATE INDEX "alert_history_alert_type_created_at_idx" ON "alert_history"("alert_type", "created_at");

-- CreateIndex
CREATE INDEX "alert_history_alert_type_alert_key_idx" ON "alert_history"("alert_type", "alert_key");

-- CreateIndex
CREATE INDEX "alert_deliveries_status_deadline_at_idx" ON "alert_deliveries"("status", "deadline_at");
