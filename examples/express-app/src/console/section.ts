import type { AppContext } from '../app-context.js';
import { csrfField } from './csrf.js';
import { html, type SafeHtml } from './html.js';

/** What a section's render gets besides its data. */
export interface ViewContext {
  /** The CSRF token every form of the page carries. */
  readonly csrf: string;
  /** When the page was made (ms since the epoch). */
  readonly now: number;
}

/** A form submission, as the action sees it: every field a string (no repeats). */
export type FormFields = Readonly<Record<string, string>>;

/**
 * What an action did. `confirm` asks the operator first (the console shows a confirmation
 * page that re-posts the same fields with `confirm=yes`): for actions that cannot be undone.
 */
export type ActionOutcome =
  | { readonly kind: 'done'; readonly message: string }
  | { readonly kind: 'refused'; readonly status: number; readonly message: string }
  | { readonly kind: 'confirm'; readonly title: string; readonly detail: string };

/** One action of a section, posted to `/admin/actions/<section>/<name>`. */
export type ConsoleAction = (ctx: AppContext, form: FormFields) => Promise<ActionOutcome>;

/**
 * One part of the console page: a new section is one module exporting one of these, added
 * to the list in sections/index.ts. `load` reads (the page shows an error box in the
 * section's place when it throws); `render` writes escaped HTML; `actions` change things.
 *
 * @example
 * ```ts
 * export const uptimeSection: ConsoleSection<number> = {
 *   id: 'uptime',
 *   title: 'Uptime',
 *   load: async () => process.uptime(),
 *   render: (seconds) => html`<p>${Math.round(seconds)} s</p>`,
 * };
 * ```
 */
export interface ConsoleSection<D = unknown> {
  /** Stable id: the element id and the action path segment (`[a-z-]+`). */
  readonly id: string;
  /** Heading (undefined: the section draws its own, as the status header does). */
  readonly title: string | undefined;
  load(ctx: AppContext): Promise<D>;
  render(data: D, view: ViewContext): SafeHtml;
  readonly actions?: Readonly<Record<string, ConsoleAction>>;
}

/** Options of {@link actionForm}. */
export interface ActionFormOptions {
  /** Hidden fields (ids). */
  readonly fields?: FormFields;
  /** Visible inputs, already built. */
  readonly inputs?: SafeHtml;
  /** `danger` styles the button red. */
  readonly tone?: 'danger' | 'normal';
  /** Accessible name when the label alone is ambiguous (e.g. "Re-drive delivery abc"). */
  readonly ariaLabel?: string;
}

/**
 * A POST form for one action, with the CSRF token. Works without JavaScript.
 *
 * @example
 * ```ts
 * actionForm(view, 'needs-person', 'redrive', 'Re-drive', { fields: { id } });
 * ```
 */
export function actionForm(view: ViewContext, section: string, action: string, label: string, options: ActionFormOptions = {}): SafeHtml {
  const hidden = Object.entries(options.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`);
  return html`<form method="post" action="/admin/actions/${section}/${action}" class="action">
    <input type="hidden" name="${csrfField}" value="${view.csrf}" />${hidden}${options.inputs}<button
      type="submit"
      class="${options.tone === 'danger' ? 'danger' : ''}"
      ${options.ariaLabel === undefined ? '' : html` aria-label="${options.ariaLabel}"`}
    >
      ${label}
    </button>
  </form>`;
}

/**
 * How long ago `iso` was, in words ("3 h 5 min").
 *
 * @example
 * ```ts
 * ago(new Date(Date.now() - 90_000).toISOString(), Date.now()); // '1 min'
 * ```
 */
export function ago(iso: string | Date | number, now: number): string {
  const ms = Math.max(0, now - new Date(iso).getTime());
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.floor(ms / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
