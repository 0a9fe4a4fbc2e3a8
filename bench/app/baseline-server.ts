// The bare baseline of `pnpm bench:app`: Express parses the same Twilio form as the app,
// does one INSERT of the inbound SMS (ON CONFLICT DO NOTHING, so a duplicate is harmless),
// and answers TwiML. No signature check, no idempotency, no state machine: the floor the
// app's hardening is measured against. Runs in its own process, like the app, and tells
// its parent the port over IPC.
//
// Env: DATABASE_URL (required), POOL_SIZE (default 10, the app's pool size).
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type * as Express from 'express';
import type * as Pg from 'pg';

// express and pg are dependencies of the reference app, not of the workspace root.
const requireFromApp = createRequire(new URL('../../examples/express-app/package.json', import.meta.url));
const express = requireFromApp('express') as typeof Express.default;
const pg = requireFromApp('pg') as typeof Pg;

const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl === undefined) throw new Error('DATABASE_URL is required');
// Connections kept between rounds (idleTimeoutMillis 0), as the app's pool keeps them under load.
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.POOL_SIZE ?? 10), idleTimeoutMillis: 0 });

const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks, we got your message.</Message></Response>';
const insert = {
  name: 'baseline_insert',
  text: 'INSERT INTO bench_baseline_inbox (message_sid, from_phone, to_phone, body, params) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_sid) DO NOTHING',
};

const app = express();
app.disable('x-powered-by');
app.use(express.urlencoded({ extended: false }));
app.post('/sms', async (req, res) => {
  const params = req.body as Record<string, string>;
  try {
    await pool.query({ ...insert, values: [params.MessageSid, params.From, params.To, params.Body ?? '', JSON.stringify(params)] });
    res.type('text/xml').send(twiml);
  } catch (error) {
    console.error(`baseline: insert failed: ${(error as Error).message}`);
    res.status(500).type('text/plain').send('insert failed');
  }
});

const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('message', (message: { cmd?: string }) => {
  if (message?.cmd !== 'stop') return;
  server.closeAllConnections();
  server.close();
  void pool.end().finally(() => process.exit(0));
});
