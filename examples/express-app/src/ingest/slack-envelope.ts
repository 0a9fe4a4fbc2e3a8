import { z } from 'zod';
import { issuePaths, storableText } from './input-text.js';

const text = (max: number) => z.string().max(max).transform(storableText);

/** A message event's fields, as strings (Slack sends them so; anything else is malformed). */
const messageEvent = z.object({
  type: z.literal('message'),
  channel: text(255).optional(),
  user: text(255).optional(),
  // Slack caps a message at 40,000 characters.
  text: text(40_000).optional(),
  ts: text(64).optional(),
  bot_id: z.string().optional(),
  subtype: z.string().optional(),
});

/** The part of a Slack Events API envelope the app reads. */
export interface SlackEventEnvelope {
  readonly type: 'event_callback';
  readonly event_id: string;
  readonly event: { readonly type: string } & Partial<Omit<z.output<typeof messageEvent>, 'type'>>;
}

/** What a verified Slack body turned out to be. */
export type SlackBody =
  | { readonly kind: 'url_verification'; readonly challenge: string }
  | { readonly kind: 'event'; readonly envelope: SlackEventEnvelope }
  | { readonly kind: 'rate_limited'; readonly minuteRateLimited: number | undefined }
  /** Readable, but nothing the app acts on (or unusable: see `problems`). */
  | { readonly kind: 'ignored'; readonly reason: string; readonly problems?: readonly string[] }
  /** Not an Events API envelope at all. */
  | { readonly kind: 'malformed'; readonly reason: string };

const envelope = z.object({ type: z.string().max(100) });

/**
 * Reads a verified Slack Events API body: `url_verification`, `app_rate_limited` (sent
 * without an `event_id`), an `event_callback` with a usable `event_id` and, for message
 * events, string fields (made storable: NUL removed, lone surrogates replaced), or what
 * is wrong with it. Problems are named by path, never by value.
 *
 * @example
 * ```ts
 * const body = readSlackBody(JSON.parse(raw));
 * if (body.kind === 'event') await storeSlackSignal(ctx, body.envelope);
 * ```
 */
export function readSlackBody(body: unknown): SlackBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { kind: 'malformed', reason: 'the body is not a JSON object' };
  const head = envelope.safeParse(body);
  if (!head.success) return { kind: 'malformed', reason: 'the body has no string `type`' };
  const fields = body as Record<string, unknown>;
  switch (head.data.type) {
    case 'url_verification':
      return typeof fields.challenge === 'string' && fields.challenge.length <= 1000
        ? { kind: 'url_verification', challenge: fields.challenge }
        : { kind: 'malformed', reason: '`challenge` is not a string' };
    case 'app_rate_limited':
      return { kind: 'rate_limited', minuteRateLimited: typeof fields.minute_rate_limited === 'number' ? fields.minute_rate_limited : undefined };
    case 'event_callback':
      break;
    default:
      return { kind: 'ignored', reason: `envelope type ${storableText(head.data.type)}` };
  }
  const eventId = z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/)
    .safeParse(fields.event_id);
  if (!eventId.success) return { kind: 'ignored', reason: 'no usable event_id', problems: issuePaths(eventId.error).map((p) => `event_id ${p}`) };
  const event = z
    .object({ type: z.string().max(100) })
    .passthrough()
    .safeParse(fields.event);
  if (!event.success) return { kind: 'ignored', reason: 'no usable event', problems: issuePaths(event.error).map((p) => `event.${p}`) };
  if (event.data.type !== 'message')
    return { kind: 'event', envelope: { type: 'event_callback', event_id: eventId.data, event: { type: storableText(event.data.type) } } };
  const message = messageEvent.safeParse(fields.event);
  if (!message.success)
    return { kind: 'ignored', reason: 'a message event with unusable fields', problems: issuePaths(message.error).map((p) => `event.${p}`) };
  return { kind: 'event', envelope: { type: 'event_callback', event_id: eventId.data, event: message.data } };
}
