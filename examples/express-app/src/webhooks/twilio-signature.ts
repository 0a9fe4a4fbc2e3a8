import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '@hardening/core';
import { publicUrl } from '../http/public-url.js';
import { sendProblem } from '../http/problem.js';
import type { Metrics } from '../metrics.js';
import { twilioSignatureSdk } from '../providers/webhook-sdks.js';

const warned = new WeakSet<object>();

type TwilioSdk = NonNullable<ReturnType<typeof twilioSignatureSdk.loaded>>;

/**
 * Verifies `X-Twilio-Signature` with the Twilio SDK against the URL Twilio called (the
 * public base URL, or trusted proxy headers). A missing or wrong signature gets 403 and
 * nothing is processed; so does every request while no auth token is configured.
 */
export function verifyTwilioSignature(options: {
  authToken: string | undefined;
  publicBaseUrl: string | undefined;
  logger: Logger;
  metrics: Metrics;
}): RequestHandler {
  const { authToken, publicBaseUrl, logger, metrics } = options;
  if (authToken === undefined && !warned.has(logger)) {
    warned.add(logger);
    logger.warn({}, 'no Twilio auth token (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are both needed): every Twilio webhook will be refused with 403');
  }
  // Started here too, for an app built without buildContext; a failure surfaces on the first request.
  if (authToken !== undefined) twilioSignatureSdk.load().catch(() => {});
  const refuse = (req: Request, res: Response, hasSignature: boolean) => {
    metrics.webhooks.inc({ provider: 'twilio', outcome: 'bad_signature' });
    logger.warn({ path: req.path, hasSignature }, 'Twilio webhook refused: missing or wrong signature');
    sendProblem(res, { title: 'Forbidden', status: 403, detail: 'Missing or invalid X-Twilio-Signature.' });
  };
  return (req, res, next) => {
    const signature = req.get('x-twilio-signature');
    if (authToken === undefined || signature === undefined) return refuse(req, res, signature !== undefined);
    const check = (sdk: TwilioSdk) => {
      const url = publicUrl(req, publicBaseUrl);
      const params = (req.body ?? {}) as Record<string, string>;
      if (signedExactly(sdk, authToken, signature, url, params) || sdk.validateRequest(authToken, signature, url, params)) next();
      else refuse(req, res, true);
    };
    const sdk = twilioSignatureSdk.loaded();
    // Loaded at start-up (buildContext) in the app: the synchronous path. A load failure goes to the error handler (Express 5).
    return sdk === undefined ? twilioSignatureSdk.load().then(check) : check(sdk);
  };
}

/**
 * Whether `signature` is Twilio's signature of exactly `url` and `params`: one HMAC. The
 * SDK's `validateRequest` tries the URL without its port first, then with it (and, failing
 * both, four normalised forms), so a public URL with a port (`:8443`, the benchmark's
 * `127.0.0.1:PORT`) cost two HMACs per genuine request. `url` is always one of the SDK's
 * candidates, so what this accepts the SDK accepts; a miss falls through to the SDK.
 */
function signedExactly(sdk: TwilioSdk, authToken: string, signature: string, url: string, params: Record<string, string>): boolean {
  const expected = Buffer.from(sdk.getExpectedTwilioSignature(authToken, url, params));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
