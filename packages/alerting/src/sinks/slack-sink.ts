import { retryAfterMs } from '@hardening/core';
import type { AlertMessage, Severity } from '../alert.js';
import { SinkRejectedError } from '../errors/sink-rejected-error.js';
import { slackBlocks } from './slack-blocks.js';
import type { AlertSink, SinkContext, SinkReceipt } from './sink.js';

/**
 * The slice of a `@slack/web-api` `WebClient` the Slack sink uses. `@slack/web-api` is an
 * optional peer dependency: pass your own client, created with a short retry policy
 * (`new WebClient(token, { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true })`),
 * since the SDK's default retries for about 30 minutes, far too long for an alert that
 * could fall back to another sink meanwhile. Retries and `Retry-After` waits are then
 * handled by `safeCall`.
 *
 * @example
 * ```ts
 * import { WebClient } from '@slack/web-api';
 * import type { SlackChatClient } from '@hardening/alerting';
 * const client: SlackChatClient = new WebClient(process.env.SLACK_BOT_TOKEN, { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
 * ```
 */
export interface SlackChatClient {
  readonly chat: {
    postMessage(args: { channel: string; text: string; blocks?: unknown[]; unfurl_links?: boolean; unfurl_media?: boolean }): Promise<{
      ok?: boolean;
      ts?: string;
      channel?: string;
      error?: string;
    }>;
  };
}

/**
 * Options for {@link createSlackSink}.
 *
 * @example
 * ```ts
 * import { WebClient } from '@slack/web-api';
 * import { createSlackSink } from '@hardening/alerting';
 * const slack = createSlackSink({
 *   client: new WebClient(process.env.SLACK_BOT_TOKEN, { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }),
 *   channel: '#alerts',
 *   mention: { HIGH: '<!channel>' },
 * });
 * ```
 */
export interface SlackSinkOptions {
  /** A `WebClient` (see {@link SlackChatClient} for the retry settings to use). */
  readonly client: SlackChatClient;
  /** Channel id (`C0123ABC`) or name (`#alerts`); the bot must be a member. */
  readonly channel: string;
  /**
   * Sink name, used in routes.
   * @default 'slack'
   */
  readonly name?: string;
  /**
   * Text put in front of alerts of a severity, to notify people: `<!channel>`, `<!here>`,
   * `<@U0123>`, `<!subteam^S0123>`.
   * @default {} (no mention)
   */
  readonly mention?: Partial<Record<Severity, string>>;
  /**
   * Add an "Acknowledge" button to alert and escalation messages. Clicking it sends a
   * signed interactive request to your app's Slack interactivity URL: pass it to
   * `createSlackAckHandler` to acknowledge the alert and stop its escalation.
   * @default false
   */
  readonly ackButton?: boolean;
  /**
   * Least time between two posts to the channel. Slack allows about one message per second
   * per channel for `chat.postMessage`; posts are spaced so a burst of alerts does not get
   * rate limited. A `429` answer pauses the sink for its `Retry-After`.
   * @default 1000
   */
  readonly minIntervalMs?: number;
  /**
   * Current time, epoch ms (for the spacing).
   * @default Date.now
   */
  readonly now?: () => number;
}

const defaults = { name: 'slack', minIntervalMs: 1000 };

/** `ok: false` errors Slack documents as temporary: worth a retry. */
const transientSlackErrors = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

/**
 * Spaces calls: each caller reserves the next free slot, `minIntervalMs` after the last
 * one, and waits for it. Written by hand: it is ten lines, and the rate-limit libraries
 * on npm (bottleneck, p-throttle) do not let a `Retry-After` push every waiting slot back.
 */
class PostSpacing {
  private nextSlot = 0;
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  async wait(signal: AbortSignal): Promise<void> {
    const now = this.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.intervalMs;
    const delay = slot - now;
    if (delay <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, delay);
      const onAbort = () => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's abort reason, passed through untouched
        reject(signal.reason);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  pauseFor(ms: number): void {
    this.nextSlot = Math.max(this.nextSlot, this.now() + ms);
  }
}

/**
 * An alert sink that posts to a Slack channel with `chat.postMessage` and readable Block
 * Kit blocks (severity, title, resource, time, message, context fields, link buttons),
 * scrubbed of phone numbers, emails and secrets. Respects Slack's rate limits: posts are
 * spaced per channel, and a 429's `Retry-After` pauses the sink (and is honoured by the
 * retry). An `{ ok: false }` answer (`channel_not_found`, `invalid_auth`) fails at once.
 *
 * @param options - See {@link SlackSinkOptions}.
 * @returns The sink.
 * @throws TypeError when the client or channel is missing.
 * @example
 * ```ts
 * import { WebClient } from '@slack/web-api';
 * import { createAlertService, createSlackSink } from '@hardening/alerting';
 * const slack = createSlackSink({ client: new WebClient(token, { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }), channel: '#alerts' });
 * const alerts = createAlertService({ sinks: [slack] });
 * ```
 */
export function createSlackSink(options: SlackSinkOptions): AlertSink {
  const client = options?.client as Partial<SlackChatClient> | undefined;
  if (typeof client?.chat?.postMessage !== 'function') {
    throw new TypeError('Expected `client` to be a @slack/web-api WebClient (with chat.postMessage).');
  }
  const { channel, mention = {} } = options;
  if (typeof channel !== 'string' || !/^(#[a-z0-9_-]{1,80}|[CGD][A-Z0-9]{6,})$/.test(channel)) {
    throw new TypeError(`Expected \`channel\` to be a channel id (C0123ABC) or #name, got ${JSON.stringify(channel)}.`);
  }
  const minIntervalMs = options.minIntervalMs ?? defaults.minIntervalMs;
  if (!Number.isFinite(minIntervalMs) || minIntervalMs < 0) {
    throw new TypeError(`Expected \`minIntervalMs\` to be a non-negative number, got ${String(minIntervalMs)}.`);
  }
  const name = options.name ?? defaults.name;
  const spacing = new PostSpacing(minIntervalMs, options.now ?? Date.now);
  const chat = (client as SlackChatClient).chat;

  return {
    name,
    remote: true,
    checkConfiguration() {
      // WebClient keeps these as (TypeScript-)private fields; reading them is the only way
      // to warn about the 30-minute default retry policy before it bites.
      const internals = client as { retryConfig?: { retries?: number }; rejectRateLimitedCalls?: boolean };
      const warnings: string[] = [];
      if ((internals.retryConfig?.retries ?? 0) > 0) {
        warnings.push(
          `Slack sink "${name}": the WebClient retries on its own (${internals.retryConfig!.retries} retries); create it with { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true } so a failing Slack falls back in seconds, not minutes.`,
        );
      }
      return warnings;
    },
    async send(message: AlertMessage, context: SinkContext): Promise<SinkReceipt> {
      await spacing.wait(context.signal);
      const { text, blocks } = slackBlocks(message, mention[message.severity], options.ackButton === true);
      let result: Awaited<ReturnType<SlackChatClient['chat']['postMessage']>>;
      try {
        result = await chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false });
      } catch (error) {
        const wait = retryAfterMs(error);
        if (wait !== undefined) spacing.pauseFor(wait);
        const data = (error as { data?: { error?: unknown } }).data;
        if (typeof data?.error === 'string') {
          throw new SinkRejectedError(name, `Slack answered ${data.error}`, {
            providerCode: data.error,
            transient: transientSlackErrors.has(data.error),
            cause: error,
          });
        }
        throw error;
      }
      if (result.ok === false) {
        throw new SinkRejectedError(name, `Slack answered ${result.error ?? 'ok: false'}`, {
          providerCode: result.error,
          transient: transientSlackErrors.has(result.error ?? ''),
        });
      }
      return { ids: result.ts !== undefined ? [result.ts] : [] };
    },
  };
}
