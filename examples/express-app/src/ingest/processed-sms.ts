import { maskPhoneNumber, scrubText } from '@hardening/core';
import type { AppContext } from '../app-context.js';
import type { InboundOutcome } from '../domain/inbound.js';
import type { InboundSms } from '../domain/routing.js';

/** What to do about POOL_EMPTY, in the alert itself (a fresh database has no numbers). */
export const poolEmptyHint =
  'Add Twilio numbers to the pool: POST /api/admin/numbers {"numbers":["+15551234567"]} with the admin token; clients waiting for one get it at once.';

/** What {@link afterProcessing} uses of the app context. */
export type AfterProcessingDeps = Pick<AppContext, 'logger' | 'metrics' | 'alert' | 'alerts'>;

/**
 * What an inbound SMS's processing asks for once it committed, wherever it ran (the webhook
 * or the queued retry): alerts for its events, and a visible trace of texts that reach no
 * business (a number we do not use, a caller of the system number) or answer an alert.
 *
 * @example
 * ```ts
 * const outcome = await processInbound(db, inboxId, ctx.processing);
 * afterProcessing(ctx, sms, outcome);
 * ```
 */
export function afterProcessing(deps: AfterProcessingDeps, sms: InboundSms, outcome: InboundOutcome): void {
  if (outcome.kind !== 'processed') return;
  const { result } = outcome;
  for (const event of result.events) {
    if (event.type === 'POOL_EMPTY') {
      deps.alert({
        type: 'POOL_EMPTY',
        severity: 'HIGH',
        resourceId: event.clientId,
        title: 'Number pool is empty',
        message: `A client finished onboarding questions and no number was available. ${poolEmptyHint}`,
      });
    }
  }
  switch (result.route) {
    case 'unknown_number':
    case 'system_caller':
      deps.metrics.unroutedTexts.inc({ route: result.route });
      deps.logger.warn(
        { messageSid: sms.messageSid, from: maskPhoneNumber(sms.from), to: maskPhoneNumber(sms.to), route: result.route, action: 'required' },
        result.route === 'unknown_number'
          ? 'ACTION REQUIRED: a text to a number we do not use; answered with the fail-safe text'
          : 'ACTION REQUIRED: a caller of the system number wrote back; not onboarded, a person should answer',
      );
      return;
    case 'operator':
      void acknowledgeFromOperator(deps, sms);
      return;
    default:
      return;
  }
}

/**
 * An operator (a number of ALERT_SMS_TO) answered an alert SMS: an acknowledgement, never onboarding.
 * "ACK" (or "ACK <code>", the code the alert SMS ends with) acknowledges the alert through
 * @hardening/alerting: its escalation stops on every instance, and the history and the
 * alert status show who acknowledged (the number masked). Any other text is logged at warn
 * (scrubbed) so the alert trail shows who answered when. Runs after the reply was sent;
 * never throws (a store failure is logged: the operator can acknowledge in the admin API).
 *
 * @example
 * ```ts
 * await acknowledgeFromOperator(ctx, { messageSid: 'SM1', from: operatorPhone, to: systemNumber, body: 'ACK 7KQ2M' });
 * ```
 */
export async function acknowledgeFromOperator(deps: Pick<AppContext, 'logger' | 'alerts'>, sms: InboundSms): Promise<void> {
  const text = scrubText(sms.body).slice(0, 160);
  try {
    const ack = await deps.alerts.handleSmsReply({ from: sms.from, body: sms.body });
    if (!ack.handled) {
      deps.logger.warn({ messageSid: sms.messageSid, text }, 'operator answered an alert SMS (not an ACK: nothing acknowledged)');
    } else if (ack.outcome === undefined) {
      deps.logger.error({ messageSid: sms.messageSid, text, err: ack.error }, 'operator ACK by SMS could not be stored; acknowledge in the admin API');
    } else {
      deps.logger.warn({ messageSid: sms.messageSid, text, outcome: ack.outcome.status }, `operator ACK by SMS: ${ack.reply}`);
    }
  } catch (error) {
    deps.logger.error({ messageSid: sms.messageSid, text, err: String(error) }, 'operator ACK by SMS failed');
  }
}
