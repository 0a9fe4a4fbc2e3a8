// Writes the run's report: JSON (every figure), Markdown (a table per scenario and the
// violations) and a hand-written SVG chart of each scenario's requests per second, split by
// outcome, with the fault windows, the first alert and the recovery marked.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Delivery } from './deliver.js';
import type { ScenarioFigures, ScenarioRecord } from './invariants.js';

/** The whole run. */
export interface RunReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSec: number;
  readonly mode: 'full' | 'quick';
  readonly timeScale: number;
  readonly instances: number;
  readonly commit: string;
  /** The machine's 1-minute load average at the start and the end (2 cores shared with other work: latencies and restarts stretch with it). */
  readonly loadAverage: readonly [number, number];
  /** The run's time budget (issue 11: under 10 minutes). */
  readonly budgetSec: number;
  /** Scenarios that ran side by side (their faults share nothing), one entry per step. */
  readonly sideBySide: readonly string[];
  /** The harness main loop's stalls over 100 ms (deliveries and probes run on threads of their own). */
  readonly harnessStalls: { readonly count: number; readonly maxMs: number };
  readonly scenarios: readonly ScenarioFigures[];
  /** Work still waiting after the final drain. */
  readonly finalBacklog: Readonly<Record<string, number>>;
  /** Violations of the run as a whole (work left at the end, a crash between scenarios). */
  readonly runViolations: readonly string[];
  readonly passed: boolean;
}

const colours: Record<string, string> = {
  redis_killed: '#d62728',
  postgres_hung: '#9467bd',
  providers_500: '#ff7f0e',
  instance_sigkill: '#8c564b',
  instance_sigterm: '#17becf',
};

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

type Outcome = 'real' | 'other_2xx' | 'holding' | 'error';

function outcomeOf(d: Delivery, replies: Map<string, string>): Outcome {
  if (typeof d.status !== 'number' || d.status >= 300) return 'error';
  if (d.provider !== 'twilio_sms') return 'other_2xx';
  const reply = replies.get(d.eventId);
  return reply !== undefined && d.messages.includes(reply) ? 'real' : 'holding';
}

const fill: Record<Outcome, string> = { real: '#2ca02c', other_2xx: '#98df8a', holding: '#f2c12e', error: '#d62728' };

/** One panel per scenario: stacked bars of deliveries per second by outcome, fault bands, markers. */
export function renderSvg(records: readonly ScenarioRecord[], figures: readonly ScenarioFigures[]): string {
  const width = 960;
  const panelHeight = 150;
  const left = 60;
  const plotWidth = width - left - 20;
  const parts: string[] = [];
  const height = records.length * (panelHeight + 40) + 60;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">Chaos run: webhook deliveries per second by outcome, fault windows shaded</text>`);
  const legend: Array<[string, string]> = [
    ['real reply inline', fill.real],
    ['other 2xx', fill.other_2xx],
    ['holding / no reply text', fill.holding],
    ['non-2xx or no answer', fill.error],
    ['first alert', '#000'],
    ['recovered', '#1f77b4'],
  ];
  legend.forEach(([label, colour], i) => {
    parts.push(`<rect x="${left + i * 150}" y="30" width="10" height="10" fill="${colour}"/><text x="${left + i * 150 + 14}" y="39">${label}</text>`);
  });
  records.forEach((record, index) => {
    const top = 60 + index * (panelHeight + 40);
    const spanMs = Math.max(1000, record.drainEnd - record.start);
    const x = (t: number) => left + ((t - record.start) / spanMs) * plotWidth;
    const replies = new Map(record.events.flatMap((e) => (e.kind === 'sms' ? [[e.id, e.reply] as const] : [])));
    const buckets = new Map<number, Record<Outcome, number>>();
    for (const d of record.deliveries) {
      const sec = Math.floor((d.startedAt - record.start) / 1000);
      const bucket = buckets.get(sec) ?? { real: 0, other_2xx: 0, holding: 0, error: 0 };
      bucket[outcomeOf(d, replies)]++;
      buckets.set(sec, bucket);
    }
    const maxPerSec = Math.max(1, ...[...buckets.values()].map((b) => b.real + b.other_2xx + b.holding + b.error));
    const y = (n: number) => top + panelHeight - (n / maxPerSec) * panelHeight;
    const fig = figures[index]!;
    parts.push(`<text x="${left}" y="${top - 6}" font-weight="bold">${escapeXml(`${record.name}: ${record.description}`)}</text>`);
    parts.push(`<rect x="${left}" y="${top}" width="${plotWidth}" height="${panelHeight}" fill="#fafafa" stroke="#ccc"/>`);
    for (const w of record.windows) {
      parts.push(
        `<rect x="${x(w.start).toFixed(1)}" y="${top}" width="${Math.max(1, x(w.end) - x(w.start)).toFixed(1)}" height="${panelHeight}" fill="${colours[w.kind] ?? '#999'}" fill-opacity="0.15" stroke="${colours[w.kind] ?? '#999'}" stroke-opacity="0.6"><title>${escapeXml(`${w.kind} ${w.target}`)}</title></rect>`,
      );
      parts.push(
        `<text x="${(x(w.start) + 2).toFixed(1)}" y="${top + 12}" fill="${colours[w.kind] ?? '#999'}">${escapeXml(`${w.kind}${w.kind.startsWith('instance') ? ` ${w.target}` : ''}`)}</text>`,
      );
    }
    const barWidth = Math.max(1, plotWidth / (spanMs / 1000) - 1);
    for (const [sec, b] of buckets) {
      let base = 0;
      for (const outcome of ['real', 'other_2xx', 'holding', 'error'] as const) {
        if (b[outcome] === 0) continue;
        const x0 = x(record.start + sec * 1000);
        parts.push(
          `<rect x="${x0.toFixed(1)}" y="${y(base + b[outcome]).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(y(base) - y(base + b[outcome])).toFixed(1)}" fill="${fill[outcome]}"/>`,
        );
        base += b[outcome];
      }
    }
    const end = Math.max(...record.windows.map((w) => w.end));
    const firstAlert = fig.timeToAlertSec === null ? undefined : Math.min(...record.windows.map((w) => w.start)) + fig.timeToAlertSec * 1000;
    if (firstAlert !== undefined) parts.push(`<path d="M${x(firstAlert).toFixed(1)} ${top} l-5 -8 h10 z" fill="#000"><title>first alert</title></path>`);
    if (fig.timeToRecoverSec !== null) {
      const rx = x(end + fig.timeToRecoverSec * 1000).toFixed(1);
      parts.push(
        `<line x1="${rx}" y1="${top}" x2="${rx}" y2="${top + panelHeight}" stroke="#1f77b4" stroke-width="2" stroke-dasharray="4 2"><title>recovered</title></line>`,
      );
    }
    const trafficX = x(record.trafficEnd).toFixed(1);
    parts.push(
      `<line x1="${trafficX}" y1="${top}" x2="${trafficX}" y2="${top + panelHeight}" stroke="#666" stroke-dasharray="2 2"/><text x="${trafficX}" y="${top + panelHeight + 12}" fill="#666">drain</text>`,
    );
    for (let s = 0; s <= spanMs / 1000; s += spanMs > 120_000 ? 30 : 10) {
      parts.push(`<text x="${x(record.start + s * 1000).toFixed(1)}" y="${top + panelHeight + 24}" text-anchor="middle" fill="#333">${s}s</text>`);
    }
    parts.push(
      `<text x="${left - 6}" y="${top + 10}" text-anchor="end">${maxPerSec}/s</text><text x="${left - 6}" y="${top + panelHeight}" text-anchor="end">0</text>`,
    );
    const verdict = fig.violations.length === 0 ? 'all invariants hold' : `${fig.violations.length} violation(s)`;
    parts.push(
      `<text x="${width - 20}" y="${top - 6}" text-anchor="end" fill="${fig.violations.length === 0 ? '#2ca02c' : '#d62728'}">${verdict}; lost ${fig.lost}, doubled ${fig.doubled}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

const fmt = (n: number | null, unit = ' s') => (n === null ? 'none' : `${n}${unit}`);

/** The Markdown report. */
export function renderMarkdown(report: RunReport): string {
  const lines: string[] = [];
  lines.push('# Chaos run of the reference app');
  lines.push('');
  lines.push(
    `Generated by \`pnpm test:chaos\` (examples/express-app/chaos) on ${report.startedAt}, commit \`${report.commit}\`, ${report.mode} mode (time scale ${report.timeScale}), ${report.instances} app instances on one PostgreSQL (through a TCP proxy) and one private redis-server, provider stand-ins recording every call. Run time ${report.durationSec} s; machine load average ${report.loadAverage[0]} at the start, ${report.loadAverage[1]} at the end (${cpus().length} cores, shared: latencies, timeouts and instance restarts stretch with the load).`,
  );
  lines.push('');
  lines.push(
    `Budget ${report.budgetSec} s (${report.durationSec <= report.budgetSec ? 'kept' : 'exceeded'}). ${report.sideBySide.length === 0 ? '' : `Side by side (faults that share nothing): ${report.sideBySide.join('; ')}. `}Webhook deliveries and health probes run on worker threads of their own; the harness's main loop stalled over 100 ms ${report.harnessStalls.count} times (max ${report.harnessStalls.maxMs} ms), which no longer shortens a delivery's timeout or delays a probe.`,
  );
  lines.push('');
  lines.push(`**Verdict: ${report.passed ? 'every invariant held in every scenario' : 'invariants violated (listed per scenario below)'}.**`);
  lines.push('');
  lines.push('![requests per second by outcome, fault windows shaded](chaos.svg)');
  lines.push('');
  lines.push(
    '| scenario | requests | duplicates | provider retries | events | processed | lost | doubled | inline real / holding | p50 / p95 / p99 / max ms | time to alert | time to recover | violations |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of report.scenarios) {
    const events = Object.values(s.events).reduce((a, b) => a + b, 0);
    lines.push(
      `| ${s.name} | ${s.requests} | ${s.duplicates} | ${s.providerRetries} | ${events} | ${s.processed} | ${s.lost} | ${s.doubled} | ${s.inlineReplies.real} / ${s.inlineReplies.holding} | ${s.latencyMs.p50} / ${s.latencyMs.p95} / ${s.latencyMs.p99} / ${s.latencyMs.max} | ${fmt(s.timeToAlertSec)} | ${s.timeToRecoverSec === null ? `> ${s.observedAfterFaultSec} s` : `${s.timeToRecoverSec} s`} | ${s.violations.length} |`,
    );
  }
  lines.push('');
  lines.push(
    "Definitions: *requests* are HTTP deliveries (duplicates and provider retries included); *processed* counts distinct events whose effect happened (real reply, missed-call text, Slack signal stored, Stripe event's handler run, as the app's log says); *provider retries* include Stripe's (after any answer but a 2xx, 3/6/12/24 s later: Stripe's backoff compressed); *lost* counts inbound SMS without their real reply, callers never texted back at all, urgent owner texts never delivered, Slack events never stored and Stripe events never processed, by the end of the run (after the final drain); *doubled* counts real replies, missed-call texts (business text and fail-safe together) and owner texts sent more than once, and Stripe events processed more than once; a missed call answered with the generic fail-safe instead of the business's text is a violation of its own; *time to alert* runs from the first fault's start to the first alert a person received (Slack alert channel or SMS to ALERT_SMS_TO); *time to recover* from the last fault's end until every instance is ready (probed from a thread that does nothing else) and every inbound SMS gets its real reply inline (\"> N s\": still not after N s of observation; a trickle of 1 event/s runs through each drain).",
  );
  for (const s of report.scenarios) {
    lines.push('');
    lines.push(`## ${s.name}`);
    lines.push('');
    lines.push(s.description);
    lines.push('');
    lines.push(`- faults: ${s.faults.map((f) => `${f.kind} (${f.target}) ${f.startSec}-${f.endSec} s`).join('; ')}`);
    lines.push(
      `- events: ${Object.entries(s.events)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}; duration with drain ${s.durationSec} s`,
    );
    lines.push(
      `- answers: ${Object.entries(s.statuses)
        .sort()
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ')}`,
    );
    lines.push(
      `- alerts delivered: ${
        s.alerts.length === 0
          ? 'none'
          : s.alerts
              .map((a) => `${a.via} "${a.text.slice(0, 70).replace(/\|/g, '/')}"`)
              .slice(0, 6)
              .join('; ')
      }${s.alerts.length > 6 ? ` (+${s.alerts.length - 6})` : ''}`,
    );
    const health = Object.entries(s.health).sort((a, b) => b[1] - a[1]);
    lines.push(`- health probes not passing (samples, all instances): ${health.length === 0 ? 'none' : health.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    for (const b of s.carrierBlocks ?? []) {
      lines.push(
        `- carrier block: halted ${fmt(b.haltAfterSec)} after the block began, resumed ${b.resumeAfterSec === null ? 'never' : `${b.resumeAfterSec} s after it cleared (by ${b.resumedBy ?? '?'})`}; pages: ${b.pages.sms} SMS, ${b.pages.slack} Slack; requests from the blocked sender during the block: ${b.requestsDuringBlock} (${b.beforeHalt} before the halt, ${b.afterHalt} after it, probes allowed ${b.probesAllowed}); texts queued during the block: ${b.queuedDuringBlock}, delivered after it cleared: ${b.deliveredAfterBlock}; recipients who texted STOP during the block: ${b.optOuts}`,
      );
    }
    const backlog = Object.entries(s.backlogAfterDrain).filter(([, n]) => n > 0);
    lines.push(
      `- left when the scenario's drain ended (the next scenario starts anyway; late texts still count): ${backlog.length === 0 ? 'nothing' : backlog.map(([k, n]) => `${n} ${k}`).join(', ')}`,
    );
    lines.push('');
    if (s.violations.length === 0) lines.push('All invariants held.');
    else for (const v of s.violations) lines.push(`- VIOLATION: ${v}`);
  }
  lines.push('');
  lines.push('## The run as a whole');
  lines.push('');
  const final = Object.entries(report.finalBacklog).filter(([, n]) => n > 0);
  lines.push(`- left after the final drain: ${final.length === 0 ? 'nothing' : final.map(([k, n]) => `${n} ${k}`).join(', ')}`);
  for (const v of report.runViolations) lines.push(`- VIOLATION: ${v}`);
  lines.push('');
  return lines.join('\n');
}

/** Writes chaos.json, chaos.md and chaos.svg into `dir`. */
export async function writeReport(dir: string, report: RunReport, records: readonly ScenarioRecord[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'chaos.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, 'chaos.md'), renderMarkdown(report));
  await writeFile(join(dir, 'chaos.svg'), `${renderSvg(records, report.scenarios)}\n`);
}
