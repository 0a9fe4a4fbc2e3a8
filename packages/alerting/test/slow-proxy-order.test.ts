// The slow-store race tests rely on the TCP proxy's slow mode delaying a stream without
// reordering it: a reordered stream is a corrupted one (Redis answers "Protocol error"
// and drops the connection), a different fault from "slow".
import { createServer, connect, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '@hardening/test-support';

describe('startTcpProxy slow mode', () => {
  let echo: Server;
  let proxy: TcpProxy;

  beforeAll(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await startTcpProxy('127.0.0.1', (echo.address() as { port: number }).port);
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  it('delays every chunk by a random amount and keeps their order', async () => {
    proxy.slow(() => Math.random() * 30);
    const socket = connect({ host: '127.0.0.1', port: proxy.port });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const sent: string[] = [];
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    for (let i = 0; i < 400; i++) {
      const part = `<${i}>`;
      sent.push(part);
      socket.write(part);
      // A macrotask between writes, so each arrives at the proxy as its own chunk.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const expected = sent.join('');
    await expect.poll(() => received.length, { timeout: 30_000 }).toBe(expected.length);
    socket.destroy();
    proxy.restore();
    expect(received).toBe(expected);
  }, 60_000);
});
