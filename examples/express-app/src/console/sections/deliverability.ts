import { maskPhoneNumber } from '@hardening/core';
import type { AppContext } from '../../app-context.js';
import { html } from '../html.js';
import { actionForm, ago, type ActionOutcome, type ConsoleSection, type FormFields } from '../section.js';

/** How many rows of each list the page shows (the admin API pages through the rest). */
const shown = 20;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const e164 = /^\+[1-9]\d{6,14}$/;

/** What the deliverability section shows. */
export interface DeliverabilityData {
  /** Senders the campaign breaker halted, with how many SMS wait behind each. */
  readonly halted: ReadonlyArray<{ sender: string; errorCode: number; reason: string; haltedAt: Date; nextProbeAt: Date; queued: number }>;
  /** Recipients a sender will not text (recipient masked). */
  readonly suppressions: {
    readonly count: number;
    readonly rows: ReadonlyArray<{ id: string; sender: string; recipient: string; errorCode: number; reason: string; refused: number; createdAt: Date }>;
  };
  readonly optedOut: number;
}

async function resume(ctx: AppContext, form: FormFields): Promise<ActionOutcome> {
  const sender = form.sender ?? '';
  if (!e164.test(sender)) return { kind: 'refused', status: 400, message: 'Pick a halted sender.' };
  if (form.confirm !== 'yes') {
    return {
      kind: 'confirm',
      title: `Resume ${sender}?`,
      detail:
        'Its queued SMS go out at once. Resume only when the cause (carrier filtering, an unregistered campaign) is fixed, or the breaker halts it again.',
    };
  }
  if (!(await ctx.deliverability.resume(sender, 'operator (console)')))
    return { kind: 'refused', status: 404, message: `${sender} is not halted (a probe may have resumed it).` };
  return { kind: 'done', message: `${sender} resumed: its queued SMS go out now.` };
}

async function clearSuppression(ctx: AppContext, form: FormFields): Promise<ActionOutcome> {
  const id = form.id ?? '';
  if (!uuid.test(id)) return { kind: 'refused', status: 400, message: 'Pick a suppression to clear.' };
  const { count } = await ctx.db.prisma.smsSuppression.deleteMany({ where: { id } });
  if (count === 0) return { kind: 'refused', status: 404, message: 'No such suppression (cleared already?).' };
  ctx.logger.info({ suppressionId: id, by: 'operator (console)' }, 'recipient suppression cleared by an operator');
  return { kind: 'done', message: 'Suppression cleared: the next SMS to that recipient is sent.' };
}

/**
 * Deliverability (issue 14): halted senders with "Resume" (after a confirmation), recipient
 * suppressions with "Clear", and how many pairs opted out (no action: only the recipient
 * opts back in, by texting START).
 */
export const deliverabilitySection: ConsoleSection<DeliverabilityData> = {
  id: 'deliverability',
  title: 'Deliverability',
  async load(ctx) {
    const db = ctx.db.prisma;
    const [halts, suppressionCount, suppressions, optedOut] = await Promise.all([
      db.smsSenderHalt.findMany({ where: { active: true }, orderBy: { haltedAt: 'desc' }, take: shown }),
      db.smsSuppression.count(),
      db.smsSuppression.findMany({ orderBy: { createdAt: 'desc' }, take: shown }),
      db.smsOptOut.count({ where: { optedOut: true } }),
    ]);
    const waiting =
      halts.length === 0
        ? []
        : await db.outboundMessage.groupBy({
            by: ['fromPhone'],
            where: { fromPhone: { in: halts.map((h) => h.fromPhone) }, status: { in: ['pending', 'failed', 'unknown'] } },
            _count: true,
          });
    const queued = new Map(waiting.map((w) => [w.fromPhone, w._count]));
    return {
      halted: halts.map((h) => ({
        sender: h.fromPhone,
        errorCode: h.errorCode,
        reason: h.reason,
        haltedAt: h.haltedAt,
        nextProbeAt: h.nextProbeAt,
        queued: queued.get(h.fromPhone) ?? 0,
      })),
      suppressions: {
        count: suppressionCount,
        rows: suppressions.map((s) => ({
          id: s.id,
          sender: s.fromPhone,
          recipient: maskPhoneNumber(s.toPhone),
          errorCode: s.errorCode,
          reason: s.reason,
          refused: s.refused,
          createdAt: s.createdAt,
        })),
      },
      optedOut,
    };
  },
  render(data, view) {
    const halted =
      data.halted.length === 0
        ? html`<p class="empty">No sender halted.</p>`
        : html`<ul class="rows" id="halted-senders">
            ${data.halted.map(
              (h) =>
                html`<li data-sender="${h.sender}">
                  <strong>${h.sender}</strong> <span class="pill fail">halted</span> ${h.errorCode}: ${h.reason}; ${ago(h.haltedAt, view.now)} ago, ${h.queued}
                  SMS waiting
                  ${actionForm(view, 'deliverability', 'resume', 'Resume', { fields: { sender: h.sender }, ariaLabel: `Resume sender ${h.sender}` })}
                </li>`,
            )}
          </ul>`;
    const suppressions =
      data.suppressions.count === 0
        ? html`<p class="empty">No recipient suppressed.</p>`
        : html`<ul class="rows" id="suppressions">
            ${data.suppressions.rows.map(
              (s) =>
                html`<li data-suppression-id="${s.id}">
                  ${s.recipient} from ${s.sender}: ${s.errorCode} ${s.reason}, ${s.refused} send(s) refused
                  ${actionForm(view, 'deliverability', 'clear-suppression', 'Clear', { fields: { id: s.id }, ariaLabel: `Clear suppression of ${s.recipient}` })}
                </li>`,
            )}
          </ul>`;
    return html`<h3>Halted senders (${data.halted.length})</h3>
      ${halted}
      <h3>Suppressed recipients (${data.suppressions.count})</h3>
      ${suppressions}
      <p class="hint">${data.optedOut} recipient(s) opted out (they opt back in by texting START).</p>`;
  },
  actions: { resume, 'clear-suppression': clearSuppression },
};
