import express, { type Express } from 'express';
import helmet from 'helmet';
import { expressTwilioStatusCallback } from '@hardening/alerting';
import { adminRoutes } from './admin/admin-routes.js';
import { replayRoutes } from './admin/replay.js';
import type { AppContext } from './app-context.js';
import { alertStatusPath } from './alerts/alert-service.js';
import { declaredBodyLimit } from './http/body-limit.js';
import { formBody } from './http/form-body.js';
import { httpDurationMiddleware } from './http/http-metrics.js';
import { metricsRoutes } from './http/metrics-route.js';
import { problemErrorHandler, sendProblem } from './http/problem.js';
import { requestLog } from './http/request-log.js';
import { createSecurity } from './http/security.js';
import { consoleRoutes } from './console/console-routes.js';
import { slackEventRoutes } from './webhooks/slack-events.js';
import { stripeWebhookRoutes } from './webhooks/stripe-webhook.js';
import { twilioMessageStatusRoutes } from './webhooks/twilio-message-status.js';
import { twilioSmsRoute } from './webhooks/twilio-sms.js';
import { twilioVoiceRoutes } from './webhooks/twilio-voice.js';

/**
 * The Express app: a map of the service. Webhooks first (signature-checked, exempt from
 * IP rate limits, CORS and helmet's browser headers), then the public and admin APIs, health, metrics, and
 * problem+json for everything that goes wrong.
 */
export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.env.TRUST_PROXY);
  // One line per request at `info`, health probes left out (http/request-log.ts says why not pino-http).
  app.use(requestLog(ctx.logger, { ignore: (req) => req.url.startsWith('/health') }));
  app.use(httpDurationMiddleware(ctx.metrics));
  // Before anything can buffer a body: every route's own limit is at most this.
  app.use(declaredBodyLimit());
  const security = createSecurity(ctx);

  // Webhooks: Twilio posts forms (read as express.urlencoded reads them, with a fast path
  // for Twilio's own shape: http/form-body.ts); Slack and Stripe read their raw bodies in their routers.
  const twilioForms = formBody({ limit: 64 * 1024 });
  app.post('/sms', twilioForms, ...twilioSmsRoute(ctx));
  app.use('/api/twilio', twilioForms);
  app.use(twilioVoiceRoutes(ctx));
  app.use(twilioMessageStatusRoutes(ctx));
  if (ctx.config.twilio !== undefined) {
    app.post(
      alertStatusPath,
      expressTwilioStatusCallback({
        alerts: ctx.alerts,
        authToken: ctx.config.twilio.authToken,
        logger: ctx.logger,
        // Read before the signature check when the body is not a form: keep it small.
        maxBodyBytes: 64 * 1024,
        trustProxy: ctx.config.env.TRUST_PROXY > 0,
        ...(ctx.config.env.PUBLIC_BASE_URL === undefined ? {} : { publicUrl: `${ctx.config.env.PUBLIC_BASE_URL.replace(/\/+$/, '')}${alertStatusPath}` }),
      }) as never,
    );
  }
  app.use(slackEventRoutes(ctx));
  app.use(stripeWebhookRoutes(ctx));

  // Everything below is not a webhook: helmet's headers, CORS allow-list, then health
  // (probes are exempt from rate limits), then the admin surface behind its own limit and
  // the bearer token, then the per-IP limit on whatever is left. Helmet's headers tell a
  // browser how to treat a page (CSP, frame, HSTS, sniffing); a provider's webhook answer is
  // read by the provider's HTTP client, never rendered, and the dozen headers cost about
  // 3 % of POST /sms's CPU (pnpm bench:app profile), so the webhooks above go without them.
  app.use(helmet());
  app.use(security.cors);
  app.use(ctx.health.router());
  app.use(['/api/admin', '/automations', '/metrics'], ...security.adminGuard);
  app.use(metricsRoutes(ctx.metrics));
  app.use('/api/admin', security.json, adminRoutes(ctx));
  app.use('/automations', security.json, replayRoutes(ctx));
  // The operator console: its own session cookie and CSRF tokens, the admin rate limit.
  app.use('/admin', consoleRoutes(ctx, { rateLimit: security.adminLimit }));
  app.use(security.publicLimit, security.json);

  app.use((req, res) => sendProblem(res, { title: 'Not found', status: 404, detail: `No route for ${req.method} ${req.path}.` }));
  app.use(problemErrorHandler(ctx.logger));
  return app;
}
