import express, { type Express } from 'express';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import { expressTwilioStatusCallback } from '@hardening/alerting';
import type { AppContext } from './app-context.js';
import { alertStatusPath } from './alerts/alert-service.js';
import { problemErrorHandler, sendProblem } from './http/problem.js';
import { slackEventRoutes } from './webhooks/slack-events.js';
import { stripeWebhookRoutes } from './webhooks/stripe-webhook.js';
import { twilioMessageStatusRoutes } from './webhooks/twilio-message-status.js';
import { twilioSmsRoutes } from './webhooks/twilio-sms.js';
import { twilioVoiceRoutes } from './webhooks/twilio-voice.js';

/**
 * The Express app: a map of the service. Webhooks first (signature-checked, exempt from
 * IP rate limits and CORS), then the public and admin APIs, health, metrics, and
 * problem+json for everything that goes wrong.
 */
export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.env.TRUST_PROXY);
  app.use(
    pinoHttp({
      logger: ctx.logger as never,
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url?.startsWith('/health') === true },
    }),
  );
  app.use(helmet());

  // Webhooks: Twilio posts forms; Slack and Stripe read their raw bodies in their routers.
  const twilioForms = express.urlencoded({ extended: false, limit: '64kb' });
  app.use(['/sms', '/api/twilio'], twilioForms);
  app.use(twilioSmsRoutes(ctx));
  app.use(twilioVoiceRoutes(ctx));
  app.use(twilioMessageStatusRoutes(ctx));
  if (ctx.config.twilio !== undefined) {
    app.post(
      alertStatusPath,
      expressTwilioStatusCallback({
        alerts: ctx.alerts,
        authToken: ctx.config.twilio.authToken,
        logger: ctx.logger,
        trustProxy: ctx.config.env.TRUST_PROXY > 0,
        ...(ctx.config.env.PUBLIC_BASE_URL === undefined ? {} : { publicUrl: `${ctx.config.env.PUBLIC_BASE_URL.replace(/\/+$/, '')}${alertStatusPath}` }),
      }) as never,
    );
  }
  app.use(slackEventRoutes(ctx));
  app.use(stripeWebhookRoutes(ctx));

  app.use((req, res) => sendProblem(res, { title: 'Not found', status: 404, detail: `No route for ${req.method} ${req.path}.` }));
  app.use(problemErrorHandler(ctx.logger));
  return app;
}
