import escapeHtml from 'escape-html';

const brand = Symbol.for('@hardening/example-express-app/console/SafeHtml');

/**
 * HTML that is already escaped (built by {@link html}); the only kind of string the console
 * writes to a response. Anything else interpolated into {@link html} is escaped.
 *
 * @example
 * ```ts
 * const fragment: SafeHtml = html`<b>${name}</b>`;
 * res.send(fragment.value);
 * ```
 */
export class SafeHtml {
  readonly [brand] = true;
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** A value {@link html} accepts: text (escaped), numbers, nested HTML, lists of them, or nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  // escape-html escapes & < > " ' : safe in text and in quoted attribute values alike.
  return escapeHtml(String(value));
}

/**
 * Tagged template that escapes every interpolated value (business names and message bodies
 * are attacker-controlled), except nested `html` fragments. Attribute values must be quoted.
 * A hand-written tag because the template engines on the registry either escape by opt-in
 * or bring a build step; this one is the few lines the console needs, over `escape-html`.
 *
 * @example
 * ```ts
 * const name = '<script>alert(1)</script>';
 * html`<td title="${name}">${name}</td>`.value; // '<td title="&lt;script&gt;...">&lt;script&gt;...</td>'
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}
