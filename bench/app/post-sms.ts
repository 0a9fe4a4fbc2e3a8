import { Agent, request } from 'node:http';

/**
 * One signed `POST /sms` delivery over a keep-alive agent, for `pnpm bench:app` and its
 * soak mode.
 *
 * With `onResend`, a keep-alive socket the app closed just as it was reused (ECONNRESET
 * before the app saw the request) is retried once on a fresh socket, as Node's http docs
 * advise (`request.reusedSocket`), and reported to `onResend` so it is counted apart from
 * real failures. Without it, every error rejects.
 *
 * @example
 * ```ts
 * const reply = await postSms(new Agent({ keepAlive: true }), 3001, body, headers);
 * ```
 */
export function postSms(
  agent: Agent,
  port: number,
  body: string,
  headers: Record<string, string>,
  onResend?: () => void,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/sms', method: 'POST', agent, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (onResend !== undefined && req.reusedSocket && error.code === 'ECONNRESET') {
        onResend();
        // On a socket of its own: the agent could hand out another idle socket the app is
        // closing just now (a soak run lost one delivery to that, "socket hang up").
        postSms(new Agent({ keepAlive: false }), port, body, headers).then(resolve, reject);
      } else {
        reject(error);
      }
    });
    req.end(body);
  });
}
