import { createHash } from 'node:crypto';

/** Letters and digits that cannot be misread for one another on a phone (no 0/O, 1/I/L). */
const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/**
 * The short code an operator replies with ("ACK 7KQ2M") to acknowledge one alert: five
 * characters derived from the alert's (type, key), so every instance computes the same
 * code for the same alert without storing it, and an escalation notice carries the code of
 * the alert it escalates.
 *
 * @param type - The alert type.
 * @param key - The alert key (its resource id, or `*`).
 * @returns Five characters from an alphabet without look-alikes.
 * @example
 * ```ts
 * import { ackCode } from '@hardening/alerting';
 * const code = ackCode('DB_DOWN', 'db1'); // e.g. '7KQ2M'
 * ```
 */
export function ackCode(type: string, key: string): string {
  const digest = createHash('sha256').update(`${type}\u0000${key}`).digest();
  let code = '';
  for (let i = 0; i < 5; i++) code += alphabet[digest[i]! % alphabet.length];
  return code;
}

/** Parsed SMS reply: an ACK, with its code when one was given. */
export interface AckReply {
  readonly code: string | undefined;
}

/**
 * Parses an SMS reply: `ACK` or `ACK <code>` (any case, surrounding blanks and a final
 * `.` or `!` ignored). Anything else is not an acknowledgement.
 *
 * @param body - The SMS text.
 * @returns The reply, or `undefined` when it is not an ACK.
 * @example
 * ```ts
 * parseAckReply(' ack 7kq2m '); // { code: '7KQ2M' }
 * parseAckReply('ok thanks'); // undefined
 * ```
 */
export function parseAckReply(body: unknown): AckReply | undefined {
  if (typeof body !== 'string' || body.length > 100) return undefined;
  const match = /^\s*ack(?:\s+([a-z0-9]{4,8}))?\s*[.!]?\s*$/i.exec(body);
  if (match === null) return undefined;
  return { code: match[1]?.toUpperCase() };
}
