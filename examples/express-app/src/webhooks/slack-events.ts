import express, { Router } from 'express';
import { scrubText } from '@hardening/core';
import { verifySlackSignature } from '@hardening/idempotency';
import type { AppContext } from '../app-context.js';
import { describeError, isRefusedInput } from '../db/refused-input.js';
import { sendProblem } from '../http/problem.js';
import { readSlackBody } from '../ingest/slack-envelope.js';
import { storeSlackSignal } from '../ingest/slack-signal.js';

/** Answers Slack within this long whatever the database does (Slack retries after 3 s). */
const ackBudgetMs = 2000;

/**
 * POST /slack/events: the Slack Events API.
 *
 * The v0 signature is checked over the raw bytes before anything is parsed (5-minute
 * replay window; 403 otherwise). `url_verification` is answered with its challenge. An
 * event is deduplicated on `event_id` (Slack's retries carry X-Slack-Retry-Num), stored as
 * a signal and its evaluation queued; Slack gets its 200 within 3 s whatever happens: when
 * the database is slow the 200 goes first and the signal is stored (or spooled) after.
 */
export function slackEventRoutes(ctx: AppContext): Router {
  const router = Router();
  const { logger, metrics } = ctx;
  const secret = ctx.config.slack.signingSecret;
  if (secret === undefined) logger.warn({}, 'SLACK_SIGNING_SECRET is not set: every Slack event will be refused with 403');
  router.post('/slack/events', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (secret === undefined || !verifySlackSignature({ signingSecret: secret, headers: req.headers, rawBody: raw })) {
      metrics.webhooks.inc({ provider: 'slack', outcome: 'bad_signature' });
      sendProblem(res, { title: 'Forbidden', status: 403, detail: 'Missing, stale or invalid X-Slack-Signature.' });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const body = readSlackBody(parsed);
    switch (body.kind) {
      case 'malformed':
        // Signed by Slack but not an envelope: a retry would not fix it.
        metrics.webhooks.inc({ provider: 'slack', outcome: 'malformed' });
        logger.warn({ reason: parsed === undefined ? 'the body is not JSON' : body.reason }, 'Slack body refused: not an Events API envelope');
        res.set('X-Slack-No-Retry', '1');
        sendProblem(res, { title: 'Bad request', status: 400, detail: parsed === undefined ? 'The body is not JSON.' : `Not an Events API envelope: ${body.reason}.` });
        return;
      case 'url_verification':
        res.json({ challenge: body.challenge });
        return;
      case 'rate_limited':
        // Slack drops our events while it sends these: messages are being lost upstream.
        metrics.webhooks.inc({ provider: 'slack', outcome: 'rate_limited' });
        logger.warn({ minuteRateLimited: body.minuteRateLimited }, 'Slack reports app_rate_limited: it is dropping events for this app');
        ctx.alert({ type: 'SLACK_RATE_LIMITED', severity: 'MEDIUM', title: 'Slack is dropping events for the app', message: 'Slack sent app_rate_limited: events above 30,000 per workspace per hour are not delivered.' });
        res.status(200).end();
        return;
      case 'ignored':
        metrics.webhooks.inc({ provider: 'slack', outcome: 'ignored' });
        logger.warn({ reason: body.reason, problems: body.problems }, 'Slack event ignored: nothing usable in it');
        res.status(200).end();
        return;
      case 'event':
        break;
    }
    const { envelope } = body;
    const work = ctx.dedup
      .slack({ headers: req.headers, body: envelope }, async (body) => {
        await storeSlackSignal(ctx, body);
        metrics.webhooks.inc({ provider: 'slack', outcome: 'stored' });
        return { status: 200, headers: {}, body: '' };
      })
      .then((out) => {
        if (out.duplicate) metrics.duplicates.inc({ provider: 'slack' });
        return out;
      });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ackBudgetMs);
    });
    const first = await Promise.race([work.catch((error: unknown) => ({ error })), late]);
    clearTimeout(timer);
    if (first !== 'late' && !('error' in first)) {
      // A retry while the first delivery is still stored (a hung database): Slack wants a
      // 2xx within 3 s, or it retries again and counts failures against the app; the first
      // delivery stores or spools the event.
      if (first.inProgress) res.status(200).end();
      else res.status(first.status).set(first.headers).send(first.body);
      return;
    }
    // Slow or failed: acknowledge now, keep the event.
    res.status(200).end();
    const settled = first === 'late' ? await work.then(() => undefined, (error: unknown) => error) : first.error;
    if (settled !== undefined && isRefusedInput(settled)) {
      // The database is up and refused this event itself: spooling it would fail forever.
      metrics.webhooks.inc({ provider: 'slack', outcome: 'refused' });
      logger.error({ eventId: envelope.event_id, err: describeError(settled) }, 'Slack event refused by the database; not spooled');
      ctx.alert({ type: 'INBOUND_REFUSED', severity: 'MEDIUM', resourceId: envelope.event_id, title: 'A Slack event could not be stored', message: `The database refused Slack event ${envelope.event_id}: ${describeError(settled).slice(0, 200)}` });
    } else if (settled !== undefined) {
      await ctx.spool.put({ provider: 'slack', receivedAt: new Date().toISOString(), payload: envelope as unknown as Record<string, unknown> }).catch((spoolError: unknown) => {
        logger.error({ err: scrubText(String(spoolError)) }, 'Slack event could not be stored nor spooled');
      });
      metrics.webhooks.inc({ provider: 'slack', outcome: 'spooled' });
      logger.error({ eventId: envelope.event_id, err: describeError(settled) }, 'Slack event spooled: could not be stored');
      ctx.alert({
        type: 'DATABASE_UNAVAILABLE',
        severity: 'HIGH',
        title: 'Slack event spooled: database unavailable',
        message: `Slack event ${envelope.event_id} could not be stored and was spooled: ${describeError(settled).slice(0, 200)}`,
      });
    }
  });
  return router;
}
