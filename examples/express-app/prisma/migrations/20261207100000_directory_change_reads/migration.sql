-- The business directory of every instance reads the numbers assigned and the clients changed
-- since its last read, every few seconds (src/ingest/business-directory.ts): two range scans.
CREATE INDEX "clients_updated_at_idx" ON "clients"("updated_at");
CREATE INDEX "pool_numbers_assigned_at_idx" ON "pool_numbers"("assigned_at");
