import { createHash, timingSafeEqual } from 'node:crypto';

/** Shortest token accepted: guessable passwords are refused at start-up, not discovered later. */
const minimumLength = 16;

/**
 * Checks `Authorization: Bearer <token>` headers against one or more configured tokens
 * (several, to rotate without downtime).
 *
 * Both sides are hashed with SHA-256 before `timingSafeEqual`, so the comparison takes
 * the same time whatever the presented token's length or content, and every configured
 * token is compared (no early exit that would tell which one is close).
 */
export class BearerTokens {
  private readonly digests: readonly Buffer[];

  /**
   * @param tokens - The configured token(s).
   * @param optionName - The option's name, for error messages.
   * @throws TypeError when a token is missing, not a string, or shorter than 16 characters.
   */
  constructor(tokens: string | readonly string[], optionName: string) {
    const list = typeof tokens === 'string' ? [tokens] : tokens;
    if (!Array.isArray(list) || list.length === 0) {
      throw new TypeError(`Expected \`${optionName}\` to be a string or a non-empty array of strings.`);
    }
    this.digests = list.map((token: unknown) => {
      if (typeof token !== 'string' || token.length < minimumLength) {
        throw new TypeError(`Expected \`${optionName}\` to be at least ${minimumLength} characters (a random secret, e.g. \`openssl rand -hex 32\`).`);
      }
      return digest(token);
    });
  }

  /**
   * What an `Authorization` header amounts to.
   *
   * @param header - The header value, if any.
   * @returns `absent` (no header), `valid`, or `invalid` (wrong token or not a bearer token).
   */
  verify(header: string | undefined): 'absent' | 'valid' | 'invalid' {
    if (header === undefined || header === '') return 'absent';
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match === null) return 'invalid';
    const presented = digest(match[1]!);
    let ok = false;
    for (const expected of this.digests) ok = timingSafeEqual(presented, expected) || ok;
    return ok ? 'valid' : 'invalid';
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
