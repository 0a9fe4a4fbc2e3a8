import { createHash, timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import cookieParser from 'cookie-parser';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { scrubText } from '@hardening/core';
import { sendProblem } from '../http/problem.js';
import type { AppContext } from '../app-context.js';
import { createConsoleCsrf } from './csrf.js';
import { html, type SafeHtml } from './html.js';
import { confirmPage, messagePage, pageShell, signInPage } from './layout.js';
import type { ConsoleSection, FormFields, ViewContext } from './section.js';
import { consoleSections } from './sections/index.js';
import { ConsoleSessions, cookieOptions, needsSecureCookie, sessionCookie } from './session.js';

const flashCookie = 'console_flash';
const assets = { 'console.js': 'application/javascript; charset=utf-8', 'console.css': 'text/css; charset=utf-8' } as const;
const assetDir = fileURLToPath(new URL('./assets/', import.meta.url));

/**
 * `table[key]` when `key` is the table's own: a request's `valueOf` or `constructor` names a
 * property of every object, not an asset or an action.
 */
function ownEntry<T>(table: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}
const digest = (value: string) => createHash('sha256').update(value).digest();

/** Options of {@link consoleRoutes}. */
export interface ConsoleRoutesOptions {
  /** The admin API's rate limit, shared by the console (per client IP). */
  readonly rateLimit: RequestHandler;
  /**
   * The sections, in page order.
   * @default consoleSections
   */
  readonly sections?: ReadonlyArray<ConsoleSection<unknown>>;
}

function sendHtml(res: Response, status: number, page: SafeHtml): void {
  // Every page carries operational data or a form token: never cached.
  res.status(status).set('Cache-Control', 'no-store').type('html').send(page.value);
}

/** A refusal: an HTML page for a browser, problem+json for a client that asks for JSON. */
function refuse(req: Request, res: Response, status: number, title: string, detail: string, back = '/admin'): void {
  if (req.accepts(['html', 'json']) === 'json') {
    sendProblem(res, { title, status, detail });
    return;
  }
  sendHtml(res, status, messagePage(title, detail, back));
}

/** Form fields as strings: a repeated field or a nested one is refused (undefined). */
function formOf(body: unknown): FormFields | undefined {
  if (typeof body !== 'object' || body === null) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== 'string') return undefined;
    out[name] = value;
  }
  return out;
}

/**
 * The operator console at /admin: server-rendered HTML (readable without JavaScript), a
 * small script that refreshes the sections every 10 s, sign-in with the admin token into an
 * HttpOnly SameSite=Strict session cookie (Secure outside loopback), a CSRF token on every
 * action, and the admin API's rate limit.
 *
 * - GET /admin/sign-in, POST /admin/sign-in `token=`, POST /admin/sign-out
 * - GET /admin: the page (303 to sign-in without a session)
 * - GET /admin/live: `{ at, sections: { id: html } }` for the script (401 without a session)
 * - POST /admin/actions/:section/:action: a section's action (401 without a session, 403
 *   with a missing or wrong CSRF token), then 303 back to the page with the outcome
 * - GET /admin/console.js, /admin/console.css
 *
 * @example
 * ```ts
 * app.use('/admin', consoleRoutes(ctx, { rateLimit: security.adminLimit }));
 * ```
 */
export function consoleRoutes(ctx: AppContext, options: ConsoleRoutesOptions): Router {
  const sections = options.sections ?? consoleSections;
  const byId = new Map(sections.map((s) => [s.id, s]));
  const sessions = new ConsoleSessions({ adminToken: ctx.config.adminToken });
  const sessionOf = (req: Request) => sessions.verify((req.cookies as Record<string, string> | undefined)?.[sessionCookie]);
  const csrf = createConsoleCsrf(ctx.config.adminToken, (req) => sessionOf(req)?.id ?? '');
  const expectedToken = digest(ctx.config.adminToken);

  async function renderSection(section: ConsoleSection<unknown>, view: ViewContext): Promise<SafeHtml> {
    try {
      return section.render(await section.load(ctx), view);
    } catch (error) {
      ctx.logger.error({ section: section.id, err: scrubText(String(error)) }, 'console: a section could not be loaded');
      return html`<p class="attention" role="alert">
        This section could not be loaded (${scrubText(String(error)).slice(0, 200)}). It is tried again at the next update.
      </p>`;
    }
  }

  const router = Router();
  router.use(options.rateLimit, cookieParser(), express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));

  router.get('/:asset', (req, res, next) => {
    const type = ownEntry(assets, req.params.asset);
    if (type === undefined) return next();
    res.type(type).set('Cache-Control', 'no-cache').sendFile(req.params.asset, { root: assetDir });
  });

  router.get('/sign-in', (req, res) => {
    if (sessionOf(req) !== undefined) return res.redirect(303, '/admin');
    sendHtml(res, 200, signInPage());
  });

  router.post('/sign-in', (req, res) => {
    if (needsSecureCookie(req) && !req.secure) {
      // The browser would drop the Secure cookie over plain HTTP and loop back to sign-in.
      return sendHtml(
        res,
        400,
        signInPage('The console needs HTTPS on any host but localhost (behind a TLS proxy, set TRUST_PROXY). The token was not checked.'),
      );
    }
    const token = (req.body as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || token.length > 1000 || !timingSafeEqual(digest(token), expectedToken)) {
      ctx.logger.warn({ ip: req.ip }, 'console: sign-in with a wrong admin token');
      return sendHtml(res, 401, signInPage('That is not the admin token.'));
    }
    res.cookie(sessionCookie, sessions.issue(), { ...cookieOptions(req), maxAge: sessions.lifetimeMs });
    ctx.logger.info({ ip: req.ip }, 'console: operator signed in');
    res.redirect(303, '/admin');
  });

  /** Session, then CSRF: answers 401/403 and returns false when either is missing or wrong. */
  function guardAction(req: Request, res: Response): boolean {
    if (sessionOf(req) === undefined) {
      refuse(req, res, 401, 'Signed out', 'Your session is missing or expired: sign in again.', '/admin/sign-in');
      return false;
    }
    if (!csrf.valid(req)) {
      ctx.logger.warn({ path: req.path, ip: req.ip }, 'console: action refused, CSRF token missing or wrong');
      refuse(req, res, 403, 'Refused', 'The form was stale or did not come from this console (CSRF token missing or wrong). Reload the page and try again.');
      return false;
    }
    return true;
  }

  router.post('/sign-out', (req, res) => {
    if (!guardAction(req, res)) return;
    res.clearCookie(sessionCookie, cookieOptions(req));
    res.clearCookie('console_csrf', cookieOptions(req));
    res.redirect(303, '/admin/sign-in');
  });

  router.get('/', async (req, res) => {
    if (sessionOf(req) === undefined) return res.redirect(303, '/admin/sign-in');
    const view: ViewContext = { csrf: csrf.token(req, res), now: Date.now() };
    const flash = (req.cookies as Record<string, string>)[flashCookie];
    if (flash !== undefined) res.clearCookie(flashCookie, cookieOptions(req));
    const bodies = await Promise.all(sections.map((s) => renderSection(s, view)));
    const header = html`<span id="updated" aria-live="polite">updated ${new Date(view.now).toISOString().slice(11, 19)} UTC</span>
      <form method="post" action="/admin/sign-out"><input type="hidden" name="_csrf" value="${view.csrf}" /><button type="submit">Sign out</button></form>`;
    const main = html`${flash === undefined ? '' : html`<p id="flash" role="status">${flash.slice(0, 300)}</p>`}
      <main>
        ${sections.map(
          (s, i) =>
            html`<section id="section-${s.id}" ${s.title === undefined ? '' : html` aria-labelledby="h-${s.id}"`}>
              ${s.title === undefined ? '' : html`<h2 id="h-${s.id}">${s.title}</h2>`}
              <div class="section-body" data-section="${s.id}">${bodies[i]}</div>
            </section>`,
        )}
      </main>`;
    sendHtml(res, 200, pageShell('Operator console', main, header));
  });

  router.get('/live', async (req, res) => {
    if (sessionOf(req) === undefined) {
      sendProblem(res, { title: 'Unauthorized', status: 401, detail: 'Sign in at /admin/sign-in.' });
      return;
    }
    const view: ViewContext = { csrf: csrf.token(req, res), now: Date.now() };
    const bodies = await Promise.all(sections.map((s) => renderSection(s, view)));
    res
      .set('Cache-Control', 'no-store')
      .json({ at: new Date(view.now).toISOString(), sections: Object.fromEntries(sections.map((s, i) => [s.id, bodies[i]!.value])) });
  });

  router.post('/actions/:section/:action', async (req, res) => {
    if (!guardAction(req, res)) return;
    const action = ownEntry(byId.get(req.params.section)?.actions, req.params.action);
    if (action === undefined) return refuse(req, res, 404, 'Not found', 'No such action.');
    const form = formOf(req.body);
    if (form === undefined) return refuse(req, res, 400, 'Bad request', 'Every field must be given once.');
    const outcome = await action(ctx, form);
    switch (outcome.kind) {
      case 'confirm':
        return sendHtml(
          res,
          200,
          confirmPage({ title: outcome.title, detail: outcome.detail, action: req.originalUrl.split('?')[0]!, fields: form, csrf: csrf.token(req, res) }),
        );
      case 'refused':
        return refuse(req, res, outcome.status, 'Not done', outcome.message);
      case 'done':
        res.cookie(flashCookie, outcome.message, { ...cookieOptions(req), maxAge: 60_000 });
        return res.redirect(303, '/admin');
    }
  });
  return router;
}
