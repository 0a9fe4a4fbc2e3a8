// README:imports
import { safeCall, isFailedResponse, isCircuitOpenError, isRetriesExhaustedError } from '@hardening/core';
// README:imports-end
// The README's first example, run as written against a local server that answers 503 then
// 200; the test also checks that README.md shows exactly this code.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { describe, expect, it, vi } from 'vitest';

async function readmeExample(): Promise<void> {
  // README:body
  const url = process.env.STATUS_URL ?? 'https://status.example.com/api/v2/status.json';

  // Up to 3 attempts of 30 s (waits of 1 s, then 2 s) for transient failures; a 5xx or 429
  // answer counts as one (its Retry-After honoured); a breaker named 'status_page' opens
  // after 3 consecutive failures. A 4xx is returned as it is: the caller's to handle.
  try {
    const res = await safeCall('status_page', (signal) => fetch(url, { signal }), { isFailureResult: isFailedResponse });
    console.log(res.status, await res.text());
  } catch (error) {
    if (isCircuitOpenError(error)) console.warn('status page is down; not calling it until', new Date(error.retryAt ?? 0));
    else if (isRetriesExhaustedError(error)) console.warn(`gave up after ${error.attempts} attempts`, error.cause);
    else throw error; // not retried: a bug, or a caller error (a 400 an SDK threw)
  }
  // README:body-end
}

function between(source: string, start: string, end: string): string {
  const from = source.indexOf(start) + start.length + 1;
  return source.slice(from, source.indexOf(end, from)).replace(/\s+$/, '');
}

describe('the README example', () => {
  it('is the code this file runs', () => {
    const self = readFileSync(new URL(import.meta.url), 'utf8');
    const body = between(self, '// README:body', '// README:body-end')
      .split('\n')
      .map((line) => line.replace(/^ {2}/, ''))
      .join('\n');
    const expected = `${between(self, '// README:imports', '// README:imports-end')}\n\n${body}`;
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const firstBlock = /```ts\n([\s\S]*?)\n```/.exec(readme)![1];
    expect(firstBlock).toBe(expected);
  });

  it('really retries a 503: the second request gets the 200', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      if (requests === 1) res.writeHead(503, { 'retry-after': '1' }).end('busy');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('all systems operational');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    vi.stubEnv('STATUS_URL', `http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await readmeExample();
      expect(requests).toBe(2);
      expect(log).toHaveBeenCalledWith(200, 'all systems operational');
    } finally {
      log.mockRestore();
      vi.unstubAllEnvs();
      server.close();
    }
  });
});
