// Counts PostgreSQL protocol messages as they pass a TCP proxy (tools/test-support
// startTcpProxy's `tap`), so the benchmark sees what the app really sends without a
// driver hook or pg_stat_statements (not installed on the shared server, and global).
//
// - round trips: ReadyForQuery ('Z') from the server. Every simple query and every
//   extended-protocol Sync ends with exactly one, so it is the number of times a client
//   waited for the server. The one of each connection's start-up is counted apart.
// - statements: Bind ('B') plus simple Query ('Q') from the client.
// - transactions: a ReadyForQuery whose status goes from in-transaction ('T' or 'E')
//   back to idle ('I'): a COMMIT or ROLLBACK.
// - with `trace: true`, the text of every statement (Parse 'P' and simple Query 'Q'),
//   counted per distinct text: BENCH_TRACE_SQL=1 prints them per request, so a reader sees
//   what each round trip is.
//
// Assumes no TLS (the benchmark connects to 127.0.0.1 without sslmode).
import type { TcpProxyTap } from '../../tools/test-support/src/tcp-proxy.ts';

/** Totals since the counter was created. */
export interface PgWireCounts {
  connections: number;
  roundTrips: number;
  statements: number;
  transactions: number;
}

/** Splits a PostgreSQL message stream into (type, first payload byte) events. */
class MessageStream {
  private readonly header = Buffer.alloc(5);
  private headerFill = 0;
  private remaining = 0;
  private type = 0;
  private firstByte = -1;
  private body: Buffer[] | undefined;
  // The client's first message (StartupMessage) has no type byte.
  private untyped: boolean;

  constructor(
    untypedFirst: boolean,
    private readonly onMessage: (type: number, firstByte: number, body: Buffer | undefined) => void,
    private readonly keepBody: (type: number) => boolean = () => false,
  ) {
    this.untyped = untypedFirst;
  }

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        if (this.firstByte === -1) this.firstByte = chunk[i]!;
        const take = Math.min(this.remaining, chunk.length - i);
        this.body?.push(chunk.subarray(i, i + take));
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.emit();
        continue;
      }
      const headerSize = this.untyped ? 4 : 5;
      this.header[this.headerFill++] = chunk[i++]!;
      if (this.headerFill < headerSize) continue;
      this.headerFill = 0;
      this.type = this.untyped ? 0 : this.header[0]!;
      const length = this.header.readInt32BE(this.untyped ? 0 : 1);
      this.untyped = false;
      this.remaining = length - 4;
      this.firstByte = -1;
      this.body = this.keepBody(this.type) ? [] : undefined;
      if (this.remaining === 0) this.emit();
    }
  }

  private emit(): void {
    this.onMessage(this.type, this.firstByte, this.body === undefined ? undefined : Buffer.concat(this.body));
  }
}

const Z = 'Z'.charCodeAt(0);
const B = 'B'.charCodeAt(0);
const P = 'P'.charCodeAt(0);
const Q = 'Q'.charCodeAt(0);
const IDLE = 'I'.charCodeAt(0);

/**
 * A {@link TcpProxyTap} that counts PostgreSQL round trips, statements and transactions.
 *
 * @example
 * ```ts
 * const counter = createPgWireCounter();
 * const proxy = await startTcpProxy('127.0.0.1', 5432, { tap: counter.tap });
 * // ... traffic through proxy.port ...
 * console.log(counter.counts());
 * ```
 */
export function createPgWireCounter(options: { readonly trace?: boolean } = {}): {
  tap: TcpProxyTap;
  counts(): PgWireCounts;
  statements(): Map<string, number>;
} {
  const totals: PgWireCounts = { connections: 0, roundTrips: 0, statements: 0, transactions: 0 };
  const texts = new Map<string, number>();
  const keepBody = options.trace === true ? (type: number) => type === P || type === Q : () => false;
  // Parse: statement name (C string), then the query text (C string); Query: the text.
  const textOf = (type: number, body: Buffer): string => {
    const start = type === P ? body.indexOf(0) + 1 : 0;
    const end = body.indexOf(0, start);
    return body
      .toString('utf8', start, end === -1 ? body.length : end)
      .replace(/\s+/g, ' ')
      .trim();
  };
  const tap: TcpProxyTap = {
    connection() {
      totals.connections++;
      let startedUp = false;
      let lastStatus = IDLE;
      const fromClient = new MessageStream(
        true,
        (type, _first, body) => {
          if (type === B || type === Q) totals.statements++;
          if (body !== undefined) {
            const text = textOf(type, body);
            texts.set(text, (texts.get(text) ?? 0) + 1);
          }
        },
        keepBody,
      );
      const fromServer = new MessageStream(false, (type, status) => {
        if (type !== Z) return;
        if (!startedUp) {
          startedUp = true;
          return;
        }
        totals.roundTrips++;
        if (status === IDLE && lastStatus !== IDLE) totals.transactions++;
        lastStatus = status;
      });
      return { toServer: (chunk) => fromClient.feed(chunk), toClient: (chunk) => fromServer.feed(chunk) };
    },
  };
  return { tap, counts: () => ({ ...totals }), statements: () => new Map(texts) };
}
