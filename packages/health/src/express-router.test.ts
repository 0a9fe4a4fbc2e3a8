import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../test/support.js';
import { createHealthRouter } from './express-router.js';
import { defineCheck } from './health-check.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function start(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('createHealthRouter in Express 5', () => {
  it('mounts with app.use() next to the app routes, which keep working', async () => {
    const app = express();
    app.use(createHealthRouter({ checks: [defineCheck('db', () => true)], logger: captureLogger() }));
    app.get('/hello', (_req, res) => {
      res.send('world');
    });
    const url = await start(app);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toBe('application/health+json');
    expect(await (await fetch(`${url}/hello`)).text()).toBe('world');
    // Express' own 404 for paths that are not ours.
    const missing = await fetch(`${url}/health/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('Cannot GET /health/nope');
  });

  it('works under a mount path (req.url is relative to it)', async () => {
    const app = express();
    app.use('/internal', createHealthRouter({ logger: captureLogger() }));
    const url = await start(app);
    expect((await fetch(`${url}/internal/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/health/live`)).status).toBe(404);
  });

  it("mounted at '/health' with basePath '' (Express strips the mount path)", async () => {
    const app = express();
    app.use('/health', createHealthRouter({ basePath: '', logger: captureLogger() }));
    const url = await start(app);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${url}/health/live`)).headers.get('content-type')).toBe('application/health+json');
  });

  it('exposes its monitor for graceful shutdown and start-up', async () => {
    const app = express();
    const router = createHealthRouter({ waitForStartup: true, logger: captureLogger() });
    app.use(router);
    const url = await start(app);
    expect((await fetch(`${url}/health/startup`)).status).toBe(503);
    router.monitor.markStarted();
    expect((await fetch(`${url}/health/startup`)).status).toBe(200);
    router.monitor.markShuttingDown();
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
  });
});
