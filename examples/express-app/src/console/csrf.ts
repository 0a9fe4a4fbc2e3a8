import { createHmac } from 'node:crypto';
import type { Request, Response } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import { cookieOptions } from './session.js';

/** Name of the form field (or `X-CSRF-Token` header) carrying the token. */
export const csrfField = '_csrf';

/** What the console needs from its CSRF protection. */
export interface ConsoleCsrf {
  /** A token for the forms of this page (sets or reuses the CSRF cookie). */
  token(req: Request, res: Response): string;
  /** Whether a state-changing request carries a valid token for its session. */
  valid(req: Request): boolean;
}

/**
 * CSRF protection for the console's forms: csrf-csrf's double-submit cookie, with tokens
 * bound to the session id (`sessionOf(req)`), so a token from another session (or none)
 * is refused. The session cookie is SameSite=Strict too: this is the second lock.
 *
 * @param adminToken the secret the tokens' key is derived from.
 * @param sessionOf the verified session id of a request ('' when none).
 * @returns token issuing and checking.
 * @example
 * ```ts
 * const csrf = createConsoleCsrf(adminToken, (req) => sessions.verify(req.cookies.console_session)?.id ?? '');
 * if (!csrf.valid(req)) res.status(403).end();
 * ```
 */
export function createConsoleCsrf(adminToken: string, sessionOf: (req: Request) => string): ConsoleCsrf {
  const secret = createHmac('sha256', adminToken).update('console-csrf-v1').digest('base64url');
  const { generateCsrfToken, validateRequest } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: sessionOf,
    cookieName: 'console_csrf',
    // Overridden per request below (Secure depends on the host).
    cookieOptions: { sameSite: 'strict', path: '/admin', httpOnly: true },
    getCsrfTokenFromRequest: (req) => {
      const body = req.body as Record<string, unknown> | undefined;
      const fromBody = body?.[csrfField];
      return typeof fromBody === 'string' ? fromBody : req.get('x-csrf-token');
    },
  });
  return {
    token: (req, res) => generateCsrfToken(req, res, { cookieOptions: cookieOptions(req) }),
    valid: (req) => sessionOf(req) !== '' && validateRequest(req),
  };
}
