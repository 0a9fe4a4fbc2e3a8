// The promises of the scenario "carrier blocks the sender" (issue 14): one page for the
// halt, no per-message retry storm (during the block only probes reach Twilio from the
// blocked sender), every message queued during the block delivered after it clears, and
// nothing sent to a recipient who texted STOP during the block.
import { texts } from '../src/domain/messages.js';
import type { ChaosEvent, ExpectedText } from './traffic.js';

/** A carrier block as it happened, and what the app's database says of the halt. */
export interface CarrierBlockRecord {
  /** The blocked number (never printed in a report). */
  readonly sender: string;
  readonly start: number;
  /** When the carrier stopped refusing the sender. */
  readonly end: number;
  /** The app's DELIVERABILITY_PROBE_INTERVAL_MS: during a halt, one probe per interval. */
  readonly probeIntervalMs: number;
  /** The sender's halt row (`sms_sender_halts`), if the app halted it. */
  readonly halt: { readonly haltedAt: number; readonly resumedAt: number | null; readonly resumedBy: string | null } | undefined;
  /** Recipients who texted STOP to the sender during the block (`stopAt`: when the app answered 2xx; undefined: never). */
  readonly optOuts: ReadonlyArray<{ readonly phone: string; readonly stopAt: number | undefined }>;
}

/** An SMS the Twilio stand-in accepted, with the carrier's verdict. */
export interface CarrierSms {
  readonly to: string;
  readonly from: string | undefined;
  readonly body: string;
  readonly at: number;
  /** The message's last status at Twilio (`undelivered`/`failed`: the carrier refused it). */
  readonly status?: string;
}

/** The figures of one block. */
export interface CarrierBlockFigures {
  /** Messages API requests from the blocked sender during the block. */
  readonly requestsDuringBlock: number;
  /** ...of which before the halt (plus `graceMs`): the ones that tripped it. */
  readonly beforeHalt: number;
  /** ...of which after: only probes are allowed. */
  readonly afterHalt: number;
  readonly probesAllowed: number;
  /** Seconds from the block's start to the halt (null: never halted). */
  readonly haltAfterSec: number | null;
  /** Seconds from the block's end to the resume (null: still halted). */
  readonly resumeAfterSec: number | null;
  readonly resumedBy: string | null;
  /** Pages about the halt a person received, by channel. */
  readonly pages: { readonly sms: number; readonly slack: number };
  /** Texts from the sender the traffic asked for during the block, and how many arrived after it. */
  readonly queuedDuringBlock: number;
  readonly deliveredAfterBlock: number;
  readonly optOuts: number;
}

/**
 * Requests in flight when the halt lands (sent before the first instance saw it) are not a
 * storm. The judge measures from the halt row's `halted_at`, the app's word for when the
 * halt took effect. In the first run (load 25-28; its recordings were not kept, so this is
 * inferred from its report) the 13 "requests after the halt" had two sources: the stamp,
 * taken before the app's spike-count reads (seconds on that database: the halt was logged
 * 12 s after it; the app now stamps it just before the statement that halts), and a real
 * storm, the missed-call fail-safe texting from the halted number while the database failed
 * (about 90 CALL_PROCESSING_FAILED for 86 calls; fixed, see
 * test/e2e/sms-campaign-breaker-outage.test.ts). The judge itself was right, so it is kept:
 * 5 s for sends that had passed their pre-send check when the halt committed.
 */
export const haltGraceMs = 5000;

/** True when the carrier refused the message (it did not arrive). */
export const refused = (m: CarrierSms): boolean => m.status === 'undelivered' || m.status === 'failed';

const key = (t: ExpectedText) => `${t.to}|${t.from}|${t.body}`;

/**
 * Judges one carrier block: its violations and figures.
 *
 * @example
 * ```ts
 * const { violations } = judgeCarrierBlock(block, record.events, record.sent, record.alerts);
 * ```
 */
export function judgeCarrierBlock(
  block: CarrierBlockRecord,
  events: readonly ChaosEvent[],
  sent: readonly CarrierSms[],
  alerts: ReadonlyArray<{ readonly via: 'slack' | 'sms'; readonly text: string }>,
): { violations: string[]; figures: CarrierBlockFigures } {
  const violations: string[] = [];
  const seconds = (ms: number) => Math.round(ms / 100) / 10;

  // The halt: during the block, and over by the end of the run (a probe got through).
  const { halt } = block;
  if (halt === undefined || halt.haltedAt < block.start || halt.haltedAt > block.end) {
    violations.push(`carrier block: the sender was ${halt === undefined ? 'never halted' : 'not halted during the block'}; every message was tried on its own`);
  } else if (halt.resumedAt === null) {
    violations.push('carrier block: the sender was still halted at the end of the run (no probe got through after the block cleared)');
  }

  // One page.
  const halted = alerts.filter((a) => /halted/i.test(a.text));
  const pages = { sms: halted.filter((a) => a.via === 'sms').length, slack: halted.filter((a) => a.via === 'slack').length };
  if (pages.sms !== 1 || pages.slack > 1)
    violations.push(`carrier block: the halt paged ${pages.sms} time(s) by SMS and ${pages.slack} on Slack (one page wanted)`);

  // No retry storm: after the halt, only probes (one per probe interval) reach Twilio.
  const fromSender = sent.filter((m) => m.from === block.sender && m.at >= block.start && m.at <= block.end);
  const haltedAt = halt?.haltedAt ?? block.end;
  const afterHalt = fromSender.filter((m) => m.at > haltedAt + haltGraceMs).length;
  const probesAllowed = halt === undefined ? 0 : Math.floor(Math.max(0, block.end - haltedAt) / block.probeIntervalMs) + 1;
  if (afterHalt > probesAllowed)
    violations.push(
      `carrier block: ${afterHalt} requests from the halted sender during the block, at most ${probesAllowed} probes allowed (a per-message retry storm)`,
    );

  // Every text queued during the block delivered after it cleared.
  const expected: ExpectedText[] = events.flatMap((e) => {
    if (e.sentAt < block.start || e.sentAt > block.end) return [];
    if (e.kind === 'call' && e.text.from === block.sender) return [e.text];
    if (e.kind === 'sms' && e.urgent?.from === block.sender) return [e.urgent];
    return [];
  });
  const arrivedAfter = new Map<string, number>();
  for (const m of sent) {
    if (m.from === block.sender && m.at >= block.end && !refused(m))
      arrivedAfter.set(`${m.to}|${m.from}|${m.body}`, (arrivedAfter.get(`${m.to}|${m.from}|${m.body}`) ?? 0) + 1);
  }
  let delivered = 0;
  for (const text of expected) {
    const left = arrivedAfter.get(key(text)) ?? 0;
    if (left > 0) {
      delivered++;
      arrivedAfter.set(key(text), left - 1);
    }
  }
  if (delivered < expected.length)
    violations.push(`carrier block: ${expected.length - delivered} of ${expected.length} texts queued during the block never delivered after it cleared`);

  // Nothing to a recipient who texted STOP (but the confirmation of their STOP).
  for (const optOut of block.optOuts) {
    if (optOut.stopAt === undefined) {
      violations.push('carrier block: a STOP sent during the block was never acknowledged with a 2xx');
      continue;
    }
    const after = sent.filter((m) => m.to === optOut.phone && m.from === block.sender && m.body !== texts.optedOut && m.at > optOut.stopAt!);
    if (after.length > 0)
      violations.push(
        `carrier block: ${after.length} text(s) reached a recipient who had texted STOP: ${after.map((m) => `"${m.body.slice(0, 40)}"`).join('; ')}`,
      );
  }

  return {
    violations,
    figures: {
      requestsDuringBlock: fromSender.length,
      beforeHalt: fromSender.length - afterHalt,
      afterHalt,
      probesAllowed,
      haltAfterSec: halt === undefined ? null : seconds(halt.haltedAt - block.start),
      resumeAfterSec: halt?.resumedAt == null ? null : seconds(halt.resumedAt - block.end),
      resumedBy: halt?.resumedBy ?? null,
      pages,
      queuedDuringBlock: expected.length,
      deliveredAfterBlock: delivered,
      optOuts: block.optOuts.length,
    },
  };
}
