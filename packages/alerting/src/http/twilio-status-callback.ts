import type { Logger } from '@hardening/core';
import { consoleLogger, maskPhoneNumber } from '@hardening/core';
import type { DeliveryStatusOutcome, DeliveryStatusUpdate } from '../alert-service-options.js';
import { describeError } from '../delivery.js';

/**
 * A request as the handler needs it: any framework's request maps onto it.
 *
 * @example
 * ```ts
 * const response = await handle({ method: 'POST', url: '/webhooks/twilio/alert-status', headers: { 'x-twilio-signature': signature }, body: 'MessageSid=SM0123&MessageStatus=delivered' });
 * ```
 */
export interface StatusCallbackRequest {
  /** HTTP method. */
  readonly method: string;
  /** Path and query as received, e.g. `/webhooks/twilio/alert-status?x=1`. */
  readonly url: string;
  /** Request headers (lower-case names). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The form body: raw (`application/x-www-form-urlencoded`) or already parsed. */
  readonly body: string | Readonly<Record<string, unknown>> | undefined;
}

/**
 * What to answer.
 *
 * @example
 * ```ts
 * const { status, headers, body } = await handle(request);
 * return new Response(body, { status, headers });
 * ```
 */
export interface StatusCallbackResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Twilio's signature check: `twilio.validateRequest` has this shape.
 *
 * @example
 * ```ts
 * import twilio from 'twilio';
 * import { createTwilioStatusCallbackHandler } from '@hardening/alerting';
 * const handle = createTwilioStatusCallbackHandler({ alerts, authToken, publicUrl, validateRequest: twilio.validateRequest });
 * ```
 */
export type TwilioSignatureValidator = (authToken: string, signature: string, url: string, params: Record<string, string>) => boolean;

/**
 * Options for {@link createTwilioStatusCallbackHandler}.
 *
 * @example
 * ```ts
 * import type { TwilioStatusCallbackOptions } from '@hardening/alerting';
 * const options: TwilioStatusCallbackOptions = {
 *   alerts,
 *   authToken: process.env.TWILIO_AUTH_TOKEN!,
 *   publicUrl: 'https://app.example.com/webhooks/twilio/alert-status',
 * };
 * ```
 */
export interface TwilioStatusCallbackOptions {
  /** The alert service (or anything with `handleDeliveryStatus`). */
  readonly alerts: { handleDeliveryStatus(update: DeliveryStatusUpdate): Promise<DeliveryStatusOutcome> };
  /** Your Twilio auth token: the key of `X-Twilio-Signature`. */
  readonly authToken: string;
  /**
   * The URL Twilio calls, exactly as given as `statusCallbackUrl` (the signature covers
   * it). Recommended behind a proxy. Without it, the URL is rebuilt from the request.
   */
  readonly publicUrl?: string;
  /**
   * Rebuild the URL from `X-Forwarded-Proto` and `X-Forwarded-Host` (only behind a proxy
   * you control, which sets them).
   * @default false
   */
  readonly trustProxy?: boolean;
  /**
   * The signature check.
   * @default twilio.validateRequest (the `twilio` package, loaded on first use)
   */
  readonly validateRequest?: TwilioSignatureValidator;
  /**
   * Where refused callbacks are logged.
   * @default JSON lines on the console
   */
  readonly logger?: Logger;
}

function header(headers: StatusCallbackRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' || value === undefined ? value : value[0];
}

function problem(status: number, title: string, detail: string): StatusCallbackResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: 'about:blank', title, status, detail }),
  };
}

function formParams(body: StatusCallbackRequest['body']): Record<string, string> {
  if (body === undefined) return {};
  if (typeof body === 'string') return Object.fromEntries(new URLSearchParams(body));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) if (typeof value === 'string') out[key] = value;
  return out;
}

/** Twilio message SIDs (`SM` + 32 hex), loosely: letters and digits. */
const sidPattern = /^[A-Za-z0-9]{2,64}$/;
/** Twilio message statuses (`delivered`, `partially_delivered`...). */
const statusPattern = /^[a-z_-]{1,32}$/;

let sdkValidator: Promise<TwilioSignatureValidator> | undefined;

/** Loads `twilio.validateRequest` once; `twilio` is an optional peer dependency. */
function loadTwilioValidator(): Promise<TwilioSignatureValidator> {
  sdkValidator ??= import('twilio').then(
    (mod) => {
      const sdk = ((mod as { default?: unknown }).default ?? mod) as { validateRequest?: TwilioSignatureValidator };
      if (typeof sdk.validateRequest !== 'function') throw new Error('twilio.validateRequest not found');
      return sdk.validateRequest;
    },
    (error: unknown) => {
      sdkValidator = undefined;
      throw new Error(
        `The twilio package is needed to check status callback signatures (npm install twilio), or pass validateRequest: ${describeError(error)}`,
      );
    },
  );
  return sdkValidator;
}

/**
 * A framework-agnostic handler for Twilio's SMS status callbacks to alert messages: checks
 * `X-Twilio-Signature` (403 problem+json when it does not match), then hands the status to
 * {@link AlertService.handleDeliveryStatus} (`delivered` confirms the alert;
 * `failed`/`undelivered` falls back to the next sink). Answers 204. Mount it where
 * `statusCallbackUrl` points; see {@link expressTwilioStatusCallback} for Express.
 *
 * @param options - See {@link TwilioStatusCallbackOptions}.
 * @returns `(request) => Promise<response>`.
 * @throws TypeError when `alerts` or `authToken` is missing.
 * @example
 * ```ts
 * import { createTwilioStatusCallbackHandler } from '@hardening/alerting';
 * const handle = createTwilioStatusCallbackHandler({ alerts, authToken: process.env.TWILIO_AUTH_TOKEN!, publicUrl });
 * // in any framework:
 * const { status, headers, body } = await handle({ method: 'POST', url: req.url, headers: req.headers, body: rawBody });
 * ```
 */
export function createTwilioStatusCallbackHandler(options: TwilioStatusCallbackOptions): (request: StatusCallbackRequest) => Promise<StatusCallbackResponse> {
  if (typeof options?.alerts?.handleDeliveryStatus !== 'function') throw new TypeError('Expected `alerts` to be an AlertService.');
  if (typeof options.authToken !== 'string' || options.authToken === '') throw new TypeError('Expected `authToken` to be your Twilio auth token.');
  if (options.publicUrl !== undefined && !/^https?:\/\/\S+$/.test(options.publicUrl)) {
    throw new TypeError(`Expected \`publicUrl\` to be an absolute http(s) URL, got ${JSON.stringify(options.publicUrl)}.`);
  }
  const logger = options.logger ?? consoleLogger({ component: 'alerting' });

  const urlOf = (request: StatusCallbackRequest): string => {
    if (options.publicUrl !== undefined) return options.publicUrl;
    const proto = (options.trustProxy ? header(request.headers, 'x-forwarded-proto')?.split(',')[0]?.trim() : undefined) ?? 'http';
    const host =
      (options.trustProxy ? header(request.headers, 'x-forwarded-host')?.split(',')[0]?.trim() : undefined) ?? header(request.headers, 'host') ?? 'localhost';
    return `${proto}://${host}${request.url}`;
  };

  return async (request) => {
    if (request.method.toUpperCase() !== 'POST') {
      return {
        ...problem(405, 'Method Not Allowed', 'Twilio posts status callbacks.'),
        headers: { 'content-type': 'application/problem+json', allow: 'POST' },
      };
    }
    const params = formParams(request.body);
    const signature = header(request.headers, 'x-twilio-signature');
    const validate = options.validateRequest ?? (await loadTwilioValidator());
    if (signature === undefined || !validate(options.authToken, signature, urlOf(request), params)) {
      logger.warn({ url: request.url, hasSignature: signature !== undefined }, 'Twilio status callback refused: invalid X-Twilio-Signature');
      return problem(403, 'Forbidden', 'X-Twilio-Signature does not match this request.');
    }
    const deliveryId = params.MessageSid ?? params.SmsSid;
    const status = params.MessageStatus ?? params.SmsStatus;
    if (deliveryId === undefined || status === undefined) return problem(400, 'Bad Request', 'MessageSid and MessageStatus are required.');
    // Signed, yet not what Twilio sends (a NUL, a 5,000-character status): refused here
    // rather than failing in the store with a 500 that Twilio would retry.
    if (!sidPattern.test(deliveryId) || !statusPattern.test(status)) return problem(400, 'Bad Request', 'MessageSid or MessageStatus is not one Twilio sends.');
    const errorCode = params.ErrorCode !== undefined && /^\d{1,10}$/.test(params.ErrorCode) ? params.ErrorCode : undefined;
    try {
      const outcome = await options.alerts.handleDeliveryStatus({ deliveryId, status, errorCode, to: params.To });
      if (outcome === 'fell_back') {
        logger.warn(
          { deliveryId, status, errorCode, to: params.To === undefined ? undefined : maskPhoneNumber(params.To) },
          'alert SMS not delivered; fell back',
        );
      }
      return { status: 204, headers: {}, body: '' };
    } catch (error) {
      // 500: Twilio retries a failed callback (once by default), so a brief store outage does
      // not lose the receipt; an unconfirmed SMS still falls back at its deadline.
      logger.error({ deliveryId, status, err: describeError(error) }, 'Twilio status callback could not be processed');
      return problem(500, 'Internal Server Error', 'The status could not be recorded; retry.');
    }
  };
}
