// Property-based hostile input (fast-check) over every public route of the app (server.ts,
// README "Routes"), on PostgreSQL + Redis as in production:
// - unauthenticated requests (signature or token missing, wrong or garbage) with any body,
//   encoding, content type and size: only the refusals each route gives (403, 401, 404,
//   413, 415, 429, 400), never a 5xx, not a row written, not an SMS sent;
// - validly signed requests with hostile fields (NUL, lone surrogates, 5,000-character
//   values, wrong types, missing ids) in every encoding: only what the provider needs
//   (200/204, 400, 403, 413, 415), never a 5xx, never a false DATABASE_UNAVAILABLE;
// - afterwards nothing is blocked: the sweep empties the spool, the outbox drains, and a
//   real SMS gets its real reply.
// Run counts are bounded (FUZZ_RUNS scales them) so the file stays well under a minute.
import fc from 'fast-check';
import { requirePostgres, requireRedis } from '@hardening/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertInput } from '../../src/alerts/alert-input.js';
import { texts } from '../../src/domain/messages.js';
import { sweepOnce } from '../../src/jobs/sweep.js';
import { rowCounts } from './support/db-inspect.js';
import {
  contentType,
  encode,
  encoding,
  garbageHeader,
  hostileJson,
  hostileString,
  queryValue,
  slackBody,
  slackHeader,
  stripeBody,
  stripeHeader,
  twilioHeader,
  twilioParams,
  unauthenticated,
  type Encoding,
  type Signing,
} from './support/hostile-requests.js';
import { phone } from './support/phones.js';
import { adminToken, startTestApp, type TestApp } from './support/test-app.js';

const postgresUp = await requirePostgres();
const redisUp = await requireRedis();
const scale = Number(process.env.FUZZ_RUNS ?? '1');
const runs = (n: number) => Math.max(1, Math.round(n * scale));

/** A webhook route: how its body is made and signed, and what it may answer when signed. */
interface WebhookRoute {
  readonly name: string;
  readonly native: 'form' | 'json';
  readonly body: fc.Arbitrary<unknown>;
  readonly path: fc.Arbitrary<string>;
  readonly sign: (app: TestApp, mode: Signing, url: string, body: Buffer, garbage: string) => Record<string, string>;
  /** Statuses a validly signed request may get. */
  readonly signed: readonly number[];
}

const outboxIdQuery = fc.oneof(fc.uuid().map(String), hostileString).map((id) => `/api/twilio/message-status?outboxId=${queryValue(id)}`);

function webhookRoutes(systemNumber: string): WebhookRoute[] {
  const twilio = (app: TestApp, mode: Signing, url: string, body: Buffer, garbage: string) =>
    twilioHeader(mode, app.providers.twilio.authToken, url, body, garbage);
  const twilioStatuses = [200, 400, 403, 413, 415];
  return [
    { name: 'POST /sms', native: 'form', body: twilioParams(systemNumber), path: fc.constant('/sms'), sign: twilio, signed: twilioStatuses },
    {
      name: 'POST /api/twilio/status',
      native: 'form',
      body: twilioParams(systemNumber),
      path: fc.constant('/api/twilio/status'),
      sign: twilio,
      signed: twilioStatuses,
    },
    { name: 'POST /api/twilio/message-status', native: 'form', body: twilioParams(systemNumber), path: outboxIdQuery, sign: twilio, signed: twilioStatuses },
    {
      name: 'POST /api/twilio/alert-status',
      native: 'form',
      body: twilioParams(systemNumber),
      path: fc.constant('/api/twilio/alert-status'),
      sign: twilio,
      signed: [204, 400, 403, 413, 415],
    },
    {
      name: 'POST /slack/events',
      native: 'json',
      body: slackBody,
      path: fc.constant('/slack/events'),
      sign: (app, mode, _url, body, garbage) => slackHeader(mode, app.providers.slackSigningSecret, body, garbage),
      signed: [200, 400, 403, 413],
    },
    {
      name: 'POST /webhooks/stripe',
      native: 'json',
      body: stripeBody,
      path: fc.constant('/webhooks/stripe'),
      sign: (app, mode, _url, body, garbage) => stripeHeader(mode, app.providers.stripeWebhookSecret, body, garbage),
      // Stripe signs the text: a body that is not UTF-8 cannot carry a valid signature.
      signed: [200, 403, 413],
    },
  ];
}

/** One hostile request to a webhook route. */
const webhookRequest = (route: WebhookRoute, signing: fc.Arbitrary<Signing>) =>
  fc.record({
    path: route.path,
    value: route.body,
    how: encoding,
    // Mostly the type the route parses (so signed requests reach the handlers), else any.
    type: fc.oneof(
      { weight: 3, arbitrary: fc.constant(route.native === 'form' ? 'application/x-www-form-urlencoded' : 'application/json') },
      { weight: 1, arbitrary: contentType },
    ),
    signing,
    garbage: garbageHeader,
    bytes: fc.uint8Array({ maxLength: 200 }),
    // Now and then more than the route's parser takes (64 KB forms, 1 MB raw bodies).
    padding: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(70_000, 1_100_000) }),
  });

const adminPaths = [
  '/api/admin/stuck-clients',
  '/api/admin/alert-stats?hours=24',
  '/api/admin/circuit-breakers',
  '/api/admin/alert-silences',
  '/api/admin/alert-silences/x',
  '/api/admin/clients/x/resolve',
  '/api/admin/clients/x/activate-payment',
  '/api/admin/numbers',
  '/api/admin/deliveries?status=dead_letter',
  '/api/admin/deliveries/x/redrive',
  '/api/admin/outbox',
  '/automations/replay/x',
  '/metrics',
];

const consolePaths = [
  '/admin',
  '/admin/',
  '/admin/sign-in',
  '/admin/sign-out',
  '/admin/live',
  '/admin/console.js',
  '/admin/actions/needs-person/resolve',
  '/admin/actions/needs-person/redrive',
  '/admin/actions/alerts/create-silence',
  '/admin/actions/alerts/end-silence',
  '/admin/actions/number-pool/add',
  '/admin/actions/deliverability/resume',
  '/admin/actions/deliverability/clear-suppression',
  '/admin/actions/x/y',
];

describe.skipIf(!postgresUp || !redisUp)('hostile input, property-based, over every public route (postgres+redis)', () => {
  let app: TestApp;
  let routes: WebhookRoute[];
  const alerts: AlertInput[] = [];
  const statuses = new Map<string, Map<number, number>>();

  const send = async (path: string, init: { method?: string; headers: Record<string, string>; body?: Buffer }) => {
    const response = await fetch(`${app.url}${path}`, {
      method: init.method ?? 'POST',
      headers: init.headers,
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const text = await response.text();
    return { status: response.status, body: text, type: response.headers.get('content-type') };
  };
  const count = (route: string, status: number) => {
    const byStatus = statuses.get(route) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    statuses.set(route, byStatus);
  };

  beforeAll(async () => {
    app = await startTestApp({ spec: { backend: 'postgres', redis: true }, label: 'fuzz', overrides: { alert: (alert) => void alerts.push(alert) } });
    routes = webhookRoutes(app.systemNumber);
  }, 120_000);
  afterAll(async () => {
    // What the properties exercised, for the reader of the run's output.
    console.info('hostile fuzz: statuses by route', JSON.stringify(Object.fromEntries([...statuses].map(([r, m]) => [r, Object.fromEntries(m)]))));
    await app?.close();
  });

  async function sendWebhook(
    route: WebhookRoute,
    input: { path: string; value: unknown; how: Encoding; type: string | undefined; signing: Signing; garbage: string; bytes: Uint8Array; padding: number },
  ) {
    let body = encode(input.value, input.how, route.native, input.bytes);
    if (input.padding > 0) body = Buffer.concat([body, Buffer.alloc(input.padding, 0x61)]);
    const signedUrl = `${app.publicBaseUrl.replace(/\/+$/, '')}${input.path}`;
    const headers: Record<string, string> = { ...route.sign(app, input.signing, signedUrl, body, input.garbage) };
    if (input.type !== undefined) headers['Content-Type'] = input.type;
    const reply = await send(input.path, { headers, body });
    count(`${route.name} (${input.signing === 'valid' ? 'signed' : 'unsigned'})`, reply.status);
    return reply;
  }

  it('unauthenticated requests to every route: refused, never 5xx, no row written, no SMS sent', async () => {
    const before = await rowCounts(app.ctx.db);
    const sent = app.providers.twilio.messages.length;
    const webhook = fc.oneof(...routes.map((route) => webhookRequest(route, unauthenticated).map((input) => ({ kind: 'webhook' as const, route, input }))));
    const admin = fc.record({
      kind: fc.constant('admin' as const),
      path: fc.oneof(
        fc.constantFrom(...adminPaths),
        hostileString.map((s) => `/api/admin/${queryValue(s)}`),
      ),
      method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
      auth: fc.oneof(fc.constant(undefined), garbageHeader, fc.constant(`Bearer ${adminToken}x`), fc.constant(`Basic ${adminToken}`)),
      body: hostileJson,
    });
    const health = fc.record({
      kind: fc.constant('health' as const),
      path: fc.constantFrom('/health', '/health/live', '/health/ready', '/health/startup', '/health/recover', '/health/recovery-stats', '/health/'),
      method: fc.constantFrom('GET', 'HEAD', 'POST'),
      auth: fc.oneof(fc.constant(undefined), garbageHeader, fc.constant('Bearer wrong-token-0123456789abcdef')),
      body: hostileJson,
    });
    // The operator console (/admin): no session or a forged one, hostile forms and cookies.
    const consoleRequest = fc.record({
      kind: fc.constant('console' as const),
      path: fc.oneof(
        fc.constantFrom(...consolePaths),
        hostileString.map((s) => `/admin/${queryValue(s)}`),
      ),
      method: fc.constantFrom('GET', 'POST'),
      cookie: fc.oneof(
        fc.constant(undefined),
        garbageHeader,
        garbageHeader.map((g) => `console_session=${encodeURIComponent(g)}; console_csrf=${encodeURIComponent(g)}`),
      ),
      fields: fc.dictionary(fc.oneof(hostileString, fc.constantFrom('token', '_csrf', 'id', 'confirm', 'number')), hostileString, { maxKeys: 6 }),
      type: contentType,
    });
    const stray = fc.record({
      kind: fc.constant('stray' as const),
      path: hostileString.map((s) => `/${queryValue(s)}`),
      method: fc.constantFrom('GET', 'POST', 'DELETE', 'OPTIONS', 'PATCH'),
      body: hostileJson,
      type: contentType,
    });

    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 3, arbitrary: webhook },
          { weight: 1, arbitrary: admin },
          { weight: 1, arbitrary: health },
          { weight: 1, arbitrary: consoleRequest },
          { weight: 1, arbitrary: stray },
        ),
        async (request) => {
          if (request.kind === 'webhook') {
            const reply = await sendWebhook(request.route, request.input);
            expect([400, 403, 413, 415], `${request.route.name}: ${reply.body.slice(0, 200)}`).toContain(reply.status);
            return;
          }
          if (request.kind === 'console') {
            const headers: Record<string, string> = {
              ...(request.cookie === undefined ? {} : { Cookie: request.cookie }),
              ...(request.type === undefined ? {} : { 'Content-Type': request.type }),
            };
            const reply = await send(request.path, {
              method: request.method,
              headers,
              ...(request.method === 'POST' ? { body: Buffer.from(new URLSearchParams(request.fields).toString()) } : {}),
            });
            count(`console ${request.method} (no session)`, reply.status);
            // GET: the sign-in page and assets (200), a redirect to sign in (303), /live (401), a
            // path that is not valid percent-encoding (400, refused before routing).
            // POST: a wrong token or no session (401), malformed or unknown (400, 404, 413, 415).
            const allowed = request.method === 'GET' ? [200, 303, 400, 401, 404, 429] : [400, 401, 404, 413, 415, 429];
            expect(allowed, `${request.method} ${request.path.slice(0, 60)}: ${reply.body.slice(0, 200)}`).toContain(reply.status);
            return;
          }
          if (request.kind === 'stray') {
            const reply = await send(request.path, {
              method: request.method,
              headers: request.type === undefined ? {} : { 'Content-Type': request.type },
              ...(['GET', 'OPTIONS'].includes(request.method) ? {} : { body: Buffer.from(JSON.stringify(request.body) ?? '') }),
            });
            count('stray path', reply.status);
            expect([204, 400, 404, 413, 415, 429], `${request.method} ${request.path.slice(0, 60)}: ${reply.body.slice(0, 200)}`).toContain(reply.status);
            return;
          }
          const headers: Record<string, string> = {
            'Content-Type': 'application/json',
            ...(request.auth === undefined ? {} : { Authorization: request.auth }),
          };
          const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
          const reply = await send(request.path, {
            method: request.method,
            headers,
            ...(hasBody ? { body: Buffer.from(JSON.stringify(request.body) ?? '') } : {}),
          });
          count(request.kind === 'admin' ? 'admin routes (no valid token)' : `${request.path} (wrong token)`, reply.status);
          const probe = request.kind === 'health' && !request.path.includes('recover') && request.method !== 'POST';
          const allowed = request.kind === 'admin' ? [401, 404, 413, 429] : probe ? [200, 503] : [401, 404, 405, 413, 429];
          expect(allowed, `${request.method} ${request.path}: ${reply.body.slice(0, 200)}`).toContain(reply.status);
        },
      ),
      { numRuns: runs(120), endOnFailure: true },
    );

    expect(await rowCounts(app.ctx.db)).toEqual(before);
    expect(app.providers.twilio.messages.length).toBe(sent);
  }, 120_000);

  it('validly signed hostile requests to every webhook: what the provider needs, never 5xx, no false database alert', async () => {
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(webhookRequest(route, fc.constant<Signing>('valid')), async (input) => {
          const reply = await sendWebhook(route, input);
          expect(route.signed, `${route.name} ${input.how}/${input.type}: ${reply.body.slice(0, 300)}`).toContain(reply.status);
        }),
        { numRuns: runs(25), endOnFailure: true },
      );
    }
    expect(alerts.filter((a) => a.type === 'DATABASE_UNAVAILABLE')).toEqual([]);
    // Many generated requests per route: a budget for a busy machine, not a speed check.
  }, 120_000);

  it('afterwards nothing is blocked: the spool empties, the outbox drains, a real SMS gets its real reply', async () => {
    await sweepOnce(app.ctx);
    expect(await app.ctx.spool.size()).toBe(0);
    await app.drainOutbox();
    const reply = await app.sms({ from: phone(), to: app.systemNumber, body: 'Hi' });
    expect(reply.status).toBe(200);
    expect(reply.messages).toEqual([texts.welcome]);
  });
});
