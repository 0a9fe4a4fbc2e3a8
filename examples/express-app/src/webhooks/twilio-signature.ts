import type { RequestHandler } from 'express';
import twilio from 'twilio';
import type { Logger } from '@hardening/core';
import { publicUrl } from '../http/public-url.js';
import { sendProblem } from '../http/problem.js';
import type { Metrics } from '../metrics.js';

const warned = new WeakSet<object>();

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
  return (req, res, next) => {
    const signature = req.get('x-twilio-signature');
    const url = publicUrl(req, publicBaseUrl);
    const params = (req.body ?? {}) as Record<string, string>;
    if (authToken === undefined || signature === undefined || !twilio.validateRequest(authToken, signature, url, params)) {
      metrics.webhooks.inc({ provider: 'twilio', outcome: 'bad_signature' });
      logger.warn({ path: req.path, hasSignature: signature !== undefined }, 'Twilio webhook refused: missing or wrong signature');
      sendProblem(res, { title: 'Forbidden', status: 403, detail: 'Missing or invalid X-Twilio-Signature.' });
      return;
    }
    next();
  };
}
