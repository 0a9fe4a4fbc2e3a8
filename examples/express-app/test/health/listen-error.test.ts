// main.ts on a port already taken: it says it could not listen, fails its start-up and exits
// 1. Express 5 also calls the listen callback with the error, which main.ts once took for a
// started server (reading the address of a server that was not listening: an uncaught
// TypeError, a PROCESS_CRASH alert, and the real cause only in its stack).
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnMainProcess, type MainProcess } from '../support/main-process.js';

describe('main.ts on a port already in use', () => {
  const taken = createServer();
  let app: MainProcess | undefined;
  afterAll(async () => {
    app?.kill();
    await new Promise((resolve) => taken.close(resolve));
  });

  it('says it could not listen and exits 1, without a crash', async () => {
    taken.listen(0);
    await once(taken, 'listening');
    app = spawnMainProcess({ PGLITE_DATA_DIR: 'memory://' }, (taken.address() as AddressInfo).port);
    expect((await app.exited).code).toBe(1);
    expect(app.output()).toContain('could not listen');
    expect(app.output()).toContain('EADDRINUSE');
    expect(app.output()).not.toContain('uncaughtException');
    expect(app.output()).not.toContain('PROCESS_CRASH');
  }, 90_000);
});
