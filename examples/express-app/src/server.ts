// The reference app's first slice: an Express server wired with @hardening/core. The
// missed-call assistant (issue 6) grows here as the packages land.
import express from 'express';
import { createSafeCall, consoleLogger, isCircuitOpenError, isRetriesExhaustedError } from '@hardening/core';

const port = Number(process.env.PORT ?? 3001);
const logger = consoleLogger({ service: 'express-app' });
const safeCall = createSafeCall({ logger, defaults: { backoff: { initialDelayMs: 200 } } });

/** A stand-in provider that fails while `outage` is on, so the breaker can be watched. */
let outage = false;
async function sendSms(body: string): Promise<{ sid: string; body: string }> {
  await new Promise((r) => setTimeout(r, 20));
  if (outage) throw Object.assign(new Error('provider unavailable'), { status: 503 });
  return { sid: `SM${Date.now()}`, body };
}

const app = express();
app.use(express.json({ limit: '100kb' }));

app.get('/health/live', (_req, res) => {
  res.json({ status: 'pass' });
});

app.post('/demo/outage', (req, res) => {
  outage = Boolean(req.body?.on);
  res.json({ outage });
});

app.post('/demo/sms', async (req, res) => {
  try {
    const message = await safeCall('demo_sms', () => sendSms(String(req.body?.body ?? 'hello')));
    res.status(201).json(message);
  } catch (error) {
    const status = isCircuitOpenError(error) ? 503 : isRetriesExhaustedError(error) ? 502 : 500;
    res.status(status).type('application/problem+json').json({
      type: 'about:blank',
      title: isCircuitOpenError(error) ? 'Provider circuit open' : 'Provider failed',
      status,
      detail: (error as Error).message,
    });
  }
});

app.get('/api/admin/circuit-breakers', (_req, res) => {
  res.json(safeCall.registry.snapshot());
});

app.listen(port, () => {
  logger.info({ port }, `listening on http://127.0.0.1:${port} (POST /demo/sms, POST /demo/outage {"on":true}, GET /api/admin/circuit-breakers)`);
});
