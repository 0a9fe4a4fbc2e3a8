import { csrfField } from './csrf.js';
import { html, type HtmlValue, type SafeHtml } from './html.js';
import type { FormFields } from './section.js';

/** The page shell: head (stylesheet and script served by the app: CSP `'self'`), header, body. */
export function pageShell(title: string, body: HtmlValue, header: HtmlValue = ''): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <link rel="stylesheet" href="/admin/console.css" />
        <script src="/admin/console.js" defer></script>
      </head>
      <body>
        <header class="top">
          <h1>${title}</h1>
          ${header}
        </header>
        ${body}
      </body>
    </html>`;
}

/** The sign-in form; `error` shown above it. */
export function signInPage(error?: string): SafeHtml {
  return pageShell(
    'Operator console: sign in',
    html`<main class="narrow">
      ${error === undefined ? '' : html`<p class="attention" role="alert">${error}</p>`}
      <form method="post" action="/admin/sign-in" class="stack">
        <label>Admin token <input name="token" type="password" autocomplete="current-password" required autofocus /></label
        ><button type="submit">Sign in</button>
      </form>
      <p class="hint">The token is the app's ADMIN_TOKEN. The session lasts 8 hours.</p>
    </main>`,
  );
}

/** A page with one message and a way back (refusals, errors). */
export function messagePage(title: string, message: string, back = '/admin'): SafeHtml {
  return pageShell(
    title,
    html`<main class="narrow">
      <p class="attention" role="alert">${message}</p>
      <p><a href="${back}">Back</a></p>
    </main>`,
  );
}

/** Asks before an action that cannot be undone: re-posts `fields` with `confirm=yes`. */
export function confirmPage(input: {
  readonly title: string;
  readonly detail: string;
  readonly action: string;
  readonly fields: FormFields;
  readonly csrf: string;
}): SafeHtml {
  const hidden = Object.entries(input.fields)
    .filter(([name]) => name !== csrfField && name !== 'confirm')
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`);
  return pageShell(
    'Confirm',
    html`<main class="narrow">
      <h2>${input.title}</h2>
      <p>${input.detail}</p>
      <form method="post" action="${input.action}" class="stack">
        <input type="hidden" name="${csrfField}" value="${input.csrf}" />${hidden}<input type="hidden" name="confirm" value="yes" /><button
          type="submit"
          class="danger"
        >
          Yes, do it
        </button>
      </form>
      <p><a href="/admin">Cancel</a></p>
    </main>`,
  );
}
