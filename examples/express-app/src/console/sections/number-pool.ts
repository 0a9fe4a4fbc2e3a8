import type { AppContext } from '../../app-context.js';
import { addNumbersByOperator } from '../../admin/numbers.js';
import { poolLevel } from '../../domain/number-pool.js';
import { toE164 } from '../../domain/phone.js';
import { html } from '../html.js';
import { actionForm, type ActionOutcome, type ConsoleSection, type FormFields } from '../section.js';

/** What the number pool section shows. */
export interface NumberPoolData {
  readonly available: number;
  readonly assigned: number;
}

async function addNumber(ctx: AppContext, form: FormFields): Promise<ActionOutcome> {
  const e164 = toE164((form.number ?? '').trim());
  if (e164 === undefined) return { kind: 'refused', status: 400, message: 'Not a phone number: write it in E.164, e.g. +15551234567.' };
  const result = await addNumbersByOperator(ctx, [e164]);
  if (result.added.length === 0) return { kind: 'refused', status: 409, message: `${e164} is already in the pool.` };
  return { kind: 'done', message: `Added ${e164}${result.allocated > 0 ? `; ${result.allocated} waiting client(s) got a number` : ''}.` };
}

/** The number pool: how many numbers are free (none left stalls onboarding), and adding one. */
export const numberPoolSection: ConsoleSection<NumberPoolData> = {
  id: 'number-pool',
  title: 'Number pool',
  load: (ctx) => poolLevel(ctx.db.prisma),
  render(data, view) {
    const inputs = html`<label
      >Number (E.164) <input name="number" type="tel" inputmode="tel" placeholder="+15551234567" pattern="\\+[1-9][0-9]{6,14}" required autocomplete="off"
    /></label>`;
    return html`<p><strong id="pool-available" class="${data.available === 0 ? 'err' : ''}">${data.available}</strong> available, ${data.assigned} assigned.</p>
      ${actionForm(view, 'number-pool', 'add', 'Add number', { inputs })}`;
  },
  actions: { add: addNumber },
};
