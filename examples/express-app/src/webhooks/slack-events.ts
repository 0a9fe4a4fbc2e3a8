import express, { Router } from 'express';
import { scrubText } from '@hardening/core';
import { verifySlackSignature } from '@hardening/idempotency';
import type { AppContext } from '../app-context.js';
import { describeError, isRefusedInput } from '../db/refused-input.js';
import { sendProblem } from '../http/problem.js';
import { readSlackBody } from '../ingest/slack-envelope.js';
import { storeSlackSignal } from '../ingest/slack-signal.js';

/**
 * How long the event may take to be stored before it is spooled instead, and how long the
 * spool waits for Redis before it writes the local file. Slack retries after 3 s: together
 * about 1 s, leaving the deadline a margin on a loaded machine (the chaos run measured
 * Slack timeouts with 1.5 s + 1 s while Redis was down, and again with 1 s + 0.5 s in the
 * combined run: 3 deliveries aborted at 3.5 s while the event loop lagged up to 0.8 s).
 * Neither wait is spent on a Redis that ioredis reports disconnected (the dedup claim and
 * the spool's Redis write both skip it): during a Redis outage the acknowledgement is a
 * local file append, leaving the whole 3 s to event-loop stalls on a loaded machine (the
 * chaos runs' Slack requests spent 1.0 s in the route while Redis was down, and stalls of
 * up to 0.9 s before it in each of two processes: the harness and the app).
 */
const ackBudgetMs = 700;
const spoolRedisTimeoutMs = 300;

/**
 * POST /slack/events: the Slack Events API.
 *
 * The v0 signature is checked over the raw bytes before anything is parsed (5-minute
 * replay window; 403 otherwise). `url_verification` is answered with its challenge. An
 * event is deduplicated on `event_id` (Slack's retries carry X-Slack-Retry-Num), stored as
 * a signal and its evaluation queued; Slack gets its 200 within 3 s, and only once the event
 * is durable: stored, or (when the database is slow or down, or an earlier delivery still
 * holds it) spooled first, then acknowledged. A spooled event is drained into the database
 * by the jobs loop.
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
        sendProblem(res, {
          title: 'Bad request',
          status: 400,
          detail: parsed === undefined ? 'The body is not JSON.' : `Not an Events API envelope: ${body.reason}.`,
        });
        return;
      case 'url_verification':
        res.json({ challenge: body.challenge });
        return;
      case 'rate_limited':
        // Slack drops our events while it sends these: messages are being lost upstream.
        metrics.webhooks.inc({ provider: 'slack', outcome: 'rate_limited' });
        logger.warn({ minuteRateLimited: body.minuteRateLimited }, 'Slack reports app_rate_limited: it is dropping events for this app');
        ctx.alert({
          type: 'SLACK_RATE_LIMITED',
          severity: 'MEDIUM',
          title: 'Slack is dropping events for the app',
          message: 'Slack sent app_rate_limited: events above 30,000 per workspace per hour are not delivered.',
        });
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
    /**
     * Spools the event, then acknowledges it (200); when neither Redis nor the disk takes it,
     * answers 503 so Slack retries. Resolves whether it was spooled.
     */
    const spoolThenAcknowledge = async (): Promise<boolean> => {
      try {
        await ctx.spool.put(
          { provider: 'slack', receivedAt: new Date().toISOString(), payload: envelope as unknown as Record<string, unknown> },
          { redisTimeoutMs: spoolRedisTimeoutMs },
        );
      } catch (spoolError) {
        logger.error(
          { eventId: envelope.event_id, err: scrubText(String(spoolError)) },
          'Slack event could not be stored nor spooled; answering 503 so Slack retries',
        );
        sendProblem(res, { title: 'Service unavailable', status: 503, detail: 'The event could not be kept; retry later.' });
        return false;
      }
      metrics.webhooks.inc({ provider: 'slack', outcome: 'spooled' });
      res.status(200).end();
      return true;
    };
    if (ctx.redis !== undefined && ctx.redis.status !== 'ready') {
      // The dedup store is Redis (src/context.ts) and ioredis is not connected: its claim
      // would only be queued offline until ioredis gives up, so waiting for it spends
      // ackBudgetMs of Slack's 3 s on an answer that cannot come (every Slack event of the
      // chaos run's Redis outage waited 0.7 s here, then 0.3 s for the spool's Redis). The
      // event is spooled (the local file: Redis is down) and acknowledged at once; the drain
      // stores it once per event_id. Not a database failure: no alert (health shows Redis).
      if (await spoolThenAcknowledge()) {
        logger.info({ eventId: envelope.event_id, redisStatus: ctx.redis.status }, 'Slack event spooled without a dedup claim: Redis is not connected');
      }
      return;
    }
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
    if (first !== 'late' && !('error' in first) && !first.inProgress) {
      // Stored (or a duplicate of a stored event): the acknowledgement is safe.
      res.status(first.status).set(first.headers).send(first.body);
      return;
    }
    if (first !== 'late' && 'error' in first && isRefusedInput(first.error)) {
      // The database is up and refused this event itself: spooling it would fail forever.
      refused(first.error);
      res.status(200).end();
      return;
    }
    // Not stored yet: slow, failed, or a retry while an earlier delivery holds the event (on
    // an instance that may have died with it: a SIGKILL mid-store). Slack stops retrying
    // once it has its 2xx, so the event is spooled (Redis or the local file) before the
    // acknowledgement, never after: an instance killed in between then loses nothing, and
    // Slack retries a request that got no answer. The copy that is also stored by the
    // first delivery is drained harmlessly (signals are kept once per event_id).
    // Neither Redis nor the disk took it: no acknowledgement, so Slack retries it.
    if (!(await spoolThenAcknowledge())) return;
    if (first !== 'late' && !('error' in first)) {
      logger.info({ eventId: envelope.event_id }, 'Slack event redelivered while an earlier delivery holds it; spooled before the acknowledgement');
      return;
    }
    const settled =
      first === 'late'
        ? await work.then(
            () => undefined,
            (error: unknown) => error,
          )
        : first.error;
    if (settled === undefined) return; // stored after all; the spooled copy drains as a duplicate
    if (isRefusedInput(settled)) {
      refused(settled);
      return;
    }
    logger.error({ eventId: envelope.event_id, err: describeError(settled) }, 'Slack event spooled: could not be stored');
    ctx.alert({
      type: 'DATABASE_UNAVAILABLE',
      severity: 'HIGH',
      title: 'Slack event spooled: database unavailable',
      message: `Slack event ${envelope.event_id} could not be stored and was spooled: ${describeError(settled).slice(0, 200)}`,
    });

    function refused(error: unknown): void {
      metrics.webhooks.inc({ provider: 'slack', outcome: 'refused' });
      logger.error({ eventId: envelope.event_id, err: describeError(error) }, 'Slack event refused by the database; not spooled');
      ctx.alert({
        type: 'INBOUND_REFUSED',
        severity: 'MEDIUM',
        resourceId: envelope.event_id,
        title: 'A Slack event could not be stored',
        message: `The database refused Slack event ${envelope.event_id}: ${describeError(error).slice(0, 200)}`,
      });
    }
  });
  return router;
}
