// Traces that follow a message across time (issue 15): an inbound SMS is received by the
// webhook, stored in the inbox, processed (inline or by a queued retry), its reply is written
// to the outbox, sent by the outbox worker minutes later perhaps, and Twilio's status callback
// arrives later still. Each step runs in its own request or job, so no in-process context
// connects them: the rows carry the W3C `traceparent` of the step that wrote them, and the
// next step starts its span with a link to it. An operator opens one trace and follows the
// links to see why a customer got no reply.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Attributes, Link, Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { scrubText } from '@hardening/core';

/** The app's tracer name (its instrumentation scope). */
export const appTracerName = '@hardening/example-express-app';

// The stored format is W3C trace context whatever propagator the app registers globally (B3,
// none...): the column is read back by this module only. OTel's own propagator writes and
// parses it, so a malformed stored value is ignored rather than trusted.
const w3c = new W3CTraceContextPropagator();
const carrierGetter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};
const carrierSetter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value;
  },
};

/**
 * The active span's context as a W3C `traceparent`, to store with a row this step writes.
 *
 * @returns The traceparent, or null when no span is recording (no tracer provider registered).
 * @example
 * ```ts
 * await db.inboundEvent.create({ data: { messageSid, payload, traceparent: activeTraceparent() } });
 * ```
 */
export function activeTraceparent(): string | null {
  const carrier: Record<string, string> = {};
  w3c.inject(context.active(), carrier, carrierSetter);
  return carrier.traceparent ?? null;
}

/**
 * A span link to a stored traceparent.
 *
 * @param traceparent - What {@link activeTraceparent} stored (null, or malformed: no link).
 * @param attributes - Attributes of the link (what the stored context belongs to).
 * @returns The link, or undefined when there is nothing valid to link to.
 * @example
 * ```ts
 * const link = linkTo(row.traceparent, { 'messaging.step': 'inbox' });
 * if (link) span.addLink(link);
 * ```
 */
export function linkTo(traceparent: string | null | undefined, attributes?: Attributes): Link | undefined {
  if (traceparent === null || traceparent === undefined || traceparent === '') return undefined;
  const spanContext = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, { traceparent }, carrierGetter));
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return undefined;
  return { context: spanContext, ...(attributes === undefined ? {} : { attributes }) };
}

/** Options of {@link inMessageSpan}. */
export interface MessageSpanOptions {
  /** @default SpanKind.INTERNAL */
  readonly kind?: SpanKind;
  /** Attributes known when the span starts. */
  readonly attributes?: Attributes;
  /** A stored traceparent to link to when the span starts (the step before, in another request or job). */
  readonly linkTo?: string | null;
}

/**
 * Runs `fn` in an active span of the app's tracer: ended when `fn` settles, ERROR status and
 * the exception recorded when it throws. `fn` may add links found later (a row read inside a
 * transaction) with `span.addLink`.
 *
 * @param name - The span name (`sms.process`, `sms.outbox.send`...).
 * @param options - Kind, attributes and a stored traceparent to link to.
 * @param fn - The work, given the span.
 * @returns What `fn` returns.
 * @throws What `fn` throws.
 * @example
 * ```ts
 * await inMessageSpan('sms.outbox.send', { linkTo: row.traceparent, attributes: { 'app.outbox.id': row.id } }, async (span) => send(row));
 * ```
 */
export function inMessageSpan<T>(name: string, options: MessageSpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const link = linkTo(options.linkTo, { 'app.link': 'stored' });
  return trace.getTracer(appTracerName).startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
      ...(link === undefined ? {} : { links: [link] }),
    },
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        // Scrubbed like a log line: a span is read by whoever reads the traces.
        span.recordException({
          name: error instanceof Error ? error.name : 'Error',
          message: scrubText(error instanceof Error ? error.message : String(error)).slice(0, 500),
        });
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
