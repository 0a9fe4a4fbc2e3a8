// A local server that speaks PagerDuty's Events API v2 (POST /v2/enqueue, JSON body with
// routing_key, event_action trigger|acknowledge|resolve, dedup_key, payload), answering
// 202 `{ status: 'success', message: 'Event processed', dedup_key }` or 400 `invalid event`.
import { randomBytes } from 'node:crypto';
import { startFakeHttpServer, type FakeHttpServer, type RecordedRequest } from './fake-http.js';

/** One event the fake accepted. */
export interface FakePagerDutyEvent {
  readonly routingKey: string;
  readonly action: 'trigger' | 'acknowledge' | 'resolve';
  readonly dedupKey: string;
  /** The `payload` object (trigger events). */
  readonly payload: Record<string, unknown> | undefined;
  /** The whole body. */
  readonly body: Record<string, unknown>;
  readonly request: RecordedRequest;
}

/** Options for {@link startFakePagerDuty}. */
export interface FakePagerDutyOptions {
  /** Routing keys accepted (32 characters each in PagerDuty). @default any 32-character key */
  readonly routingKeys?: readonly string[];
}

/** The running fake. */
export interface FakePagerDuty extends FakeHttpServer {
  /** The events URL, e.g. `http://127.0.0.1:45123/v2/enqueue`. */
  readonly eventsUrl: string;
  /** Events accepted, in order. */
  readonly events: FakePagerDutyEvent[];
  /** Incidents open by dedup key (triggered and not resolved). */
  openIncidents(): string[];
}

const severities = new Set(['critical', 'error', 'warning', 'info']);

/**
 * Starts a fake PagerDuty Events API v2 on 127.0.0.1.
 *
 * @param options - Accepted routing keys.
 * @returns The running fake.
 * @example
 * ```ts
 * const fake = await startFakePagerDuty();
 * await fetch(fake.eventsUrl, { method: 'POST', body: JSON.stringify({ routing_key: 'x'.repeat(32), event_action: 'trigger', payload: { summary: 's', source: 'app', severity: 'critical' } }) });
 * ```
 */
export async function startFakePagerDuty(options: FakePagerDutyOptions = {}): Promise<FakePagerDuty> {
  const events: FakePagerDutyEvent[] = [];
  const open = new Set<string>();
  const invalid = (...errors: string[]) => ({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } });

  const server = await startFakeHttpServer({
    errorBody: (status) => ({ status: 'error', message: `HTTP ${status}`, errors: [] }),
    route: (request) => {
      if (request.method !== 'POST' || request.path !== '/v2/enqueue') return undefined;
      let body = request.body;
      if (typeof body === 'string') {
        try {
          body = JSON.parse(body);
        } catch {
          return invalid('Body is not valid JSON');
        }
      }
      if (typeof body !== 'object' || body === null) return invalid('Body must be a JSON object');
      const event = body as Record<string, unknown>;
      const routingKey = event.routing_key;
      if (typeof routingKey !== 'string' || routingKey.length !== 32) return invalid("'routing_key' must be a 32 character string");
      if (options.routingKeys !== undefined && !options.routingKeys.includes(routingKey)) return invalid("'routing_key' is not recognised");
      const action = event.event_action;
      if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve') return invalid("'event_action' is invalid");
      let dedupKey = typeof event.dedup_key === 'string' ? event.dedup_key : undefined;
      const payload = event.payload as Record<string, unknown> | undefined;
      if (action === 'trigger') {
        if (typeof payload !== 'object' || payload === null) return invalid("'payload' is missing");
        if (typeof payload.summary !== 'string' || payload.summary.length === 0 || payload.summary.length > 1024)
          return invalid("'payload.summary' is invalid");
        if (typeof payload.source !== 'string' || payload.source.length === 0) return invalid("'payload.source' is missing");
        if (typeof payload.severity !== 'string' || !severities.has(payload.severity)) return invalid("'payload.severity' is invalid");
        dedupKey ??= randomBytes(16).toString('hex');
        open.add(dedupKey);
      } else {
        if (dedupKey === undefined) return invalid("'dedup_key' is required for acknowledge and resolve");
        if (action === 'resolve') open.delete(dedupKey);
      }
      events.push({ routingKey, action, dedupKey, payload, body: event, request });
      return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
    },
  });

  return {
    ...server,
    eventsUrl: `${server.url}/v2/enqueue`,
    events,
    openIncidents: () => [...open],
  };
}
