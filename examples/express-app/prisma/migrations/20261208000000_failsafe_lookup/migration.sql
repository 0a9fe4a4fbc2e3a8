-- Every first text to the system number asks whether the sender got its fail-safe text
-- (src/db/inbound-statements.ts, src/domain/routing.ts). Without this index that check
-- scanned every outbound message the system number ever sent (the from_phone index, then
-- a filter on to_phone): it grew with the outbox. Partial: only fail-safe rows are kept,
-- so the index stays small and other outbound writes never touch it. (Prisma's schema
-- cannot state a partial index; prisma/schema.prisma names it in a comment.)
CREATE INDEX "outbound_messages_failsafe_to_phone_idx" ON "outbound_messages"("to_phone", "from_phone") WHERE "purpose" = 'failsafe';
