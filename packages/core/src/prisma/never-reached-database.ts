import { causeChain, field } from '../classifiers/error-fields.js';

/**
 * Errors after which a write provably did not happen, so retrying it cannot apply it twice:
 * the database was never reached (P1001, P1002, connection refused), no pool connection was
 * free (P2024), the server refused the session (53300 too many connections, 57P03 cannot
 * connect now), or the statement was rolled back whole by the database (40001
 * serialization failure, 40P01 deadlock). A connection lost mid-statement is not here: the
 * write may have committed.
 */
const neverAppliedCodes = new Set(['P1001', 'P1002', 'P2024', 'P2034', '53300', '57P03', '40001', '40P01', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** True when a failed write certainly had no effect (see the list above). */
export function writeNeverApplied(error: unknown): boolean {
  for (const link of causeChain(error)) {
    for (const key of ['code', 'originalCode']) {
      const code = field(link, key);
      if (typeof code === 'string' && neverAppliedCodes.has(code)) return true;
    }
    const kind = field(link, 'kind');
    if (kind === 'DatabaseNotReachable' || kind === 'TooManyConnections' || kind === 'TransactionWriteConflict') return true;
  }
  // Anything else on the wire (a connection reset or closed mid-statement) leaves the
  // outcome unknown.
  return false;
}
