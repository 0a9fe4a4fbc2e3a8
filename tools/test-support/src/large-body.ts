// Streams a large junk body at a route and reports what the server read before answering:
// "the body limit holds" is asserted on bytes, never on time. Used by the alerting
// package's and the app's body-limit tests.
import { request, type IncomingMessage, type Server } from 'node:http';

/** What {@link postLargeBody} saw. */
export interface LargeBodyReply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
  /** Bytes the server's socket had read when the answer finished. */
  readonly serverBytesRead: number;
}

/**
 * POSTs `totalBytes` of junk to `url` in 64 KB chunks (chunked transfer unless
 * `declareLength`), stops writing as soon as an answer arrives, and resolves with it and
 * the bytes `server`'s socket had read by then.
 *
 * @example
 * ```ts
 * const reply = await postLargeBody(server, `${url}/upload`, 200 * 1024 * 1024, { declareLength: false, contentType: 'text/plain' });
 * expect(reply.status).toBe(413);
 * expect(reply.serverBytesRead).toBeLessThan(1024 * 1024);
 * ```
 */
export function postLargeBody(
  server: Server,
  url: string,
  totalBytes: number,
  options: { declareLength: boolean; contentType: string; headers?: Record<string, string> },
): Promise<LargeBodyReply> {
  return new Promise((resolve, reject) => {
    let bytesRead = -1;
    const onRequest = (req: IncomingMessage & { socket: { bytesRead: number } }, res: { on(event: 'finish', listener: () => void): void }) => {
      res.on('finish', () => (bytesRead = req.socket.bytesRead));
    };
    server.on('request', onRequest as never);
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': options.contentType, ...options.headers, ...(options.declareLength ? { 'content-length': String(totalBytes) } : {}) },
    });
    const done = (result: LargeBodyReply | Error) => {
      server.off('request', onRequest as never);
      req.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => done({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body, serverBytesRead: bytesRead }));
      res.on('error', (error) => done(error));
    });
    // The server may close the connection once it has answered: later writes fail.
    req.on('error', (error) => {
      if (!answered) done(error);
    });
    const pump = () => {
      while (sent < totalBytes && !answered && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (sent >= totalBytes && !req.destroyed) req.end();
    };
    pump();
  });
}
