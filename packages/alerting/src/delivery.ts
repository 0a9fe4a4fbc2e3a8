import type { Logger, SafeCall } from '@hardening/core';
import { isCircuitOpenError, isRetriesExhaustedError } from '@hardening/core';
import type { AlertMessage } from './alert.js';
import { headline, scrubbedAlert, scrubText } from './format.js';
import type { AlertSink, SinkReceipt } from './sinks/sink.js';
import { alertTelemetry } from './telemetry.js';

/** One sink's failure, as reported. */
export interface SinkFailure {
  readonly sink: string;
  readonly error: unknown;
  /** Scrubbed one-line description. */
  readonly reason: string;
}

/** What a delivery did. */
export interface DeliveryReport {
  /** Sinks that took the alert, in order (the log included when used). */
  readonly delivered: string[];
  readonly failed: SinkFailure[];
  /** Whether a sink outside the route was used. */
  fellBack: boolean;
  /** Whether a remote sink (not the log) took it, or the route was the log alone and it did. */
  readonly ok: boolean;
  /**
   * Route sinks (never the log) that failed and that no fallback replaced: the alert is
   * still owed to them, even when another sink took it (`ok`).
   */
  readonly owed: string[];
  /** Receipts of the sinks that took it. */
  readonly receipts: Map<string, SinkReceipt>;
}

/** The operation name `safeCall` uses for a sink (one breaker per sink). */
export function sinkOperation(sink: string): string {
  return `alert_sink:${sink}`;
}

/**
 * A short, scrubbed description of an error for logs and history: code, status, message.
 *
 * @param error - Anything thrown.
 * @returns One line, no phone numbers or secrets.
 */
export function describeError(error: unknown): string {
  if (isRetriesExhaustedError(error)) {
    const why = error.reason === 'attempts' ? '' : ` (${error.reason === 'budget' ? 'retry budget spent' : 'Retry-After too long'})`;
    return `${error.attempts} attempts failed${why}: ${describeError(error.cause)}`;
  }
  if (isCircuitOpenError(error)) return `circuit open for ${error.breakerName}: not called`;
  if (error instanceof Error) {
    const e = error as Error & { code?: unknown; status?: unknown; statusCode?: unknown };
    const status = e.status ?? e.statusCode;
    const parts = [
      typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : undefined,
      typeof status === 'number' ? `HTTP ${status}` : undefined,
    ];
    const prefix = parts.filter(Boolean).join(' ');
    return scrubText(`${prefix !== '' ? `${prefix}: ` : ''}${e.message || e.name}`);
  }
  return scrubText(String(error));
}

/** Sends alerts to sinks: remote ones through `safeCall`, with fallbacks and "ALERT NOT DELIVERED" lines. */
export class Deliverer {
  constructor(
    private readonly sinks: ReadonlyMap<string, AlertSink>,
    private readonly logSink: AlertSink,
    private readonly safeCall: SafeCall,
    private readonly logger: Logger,
  ) {}

  /**
   * Sends `message` to every sink of `route` at once; each route sink that fails after
   * its attempts is replaced by the next unused sink of `fallbackOrder`. When no sink took
   * it, the log does (it always works).
   *
   * @param message - The alert.
   * @param route - Sinks to deliver to.
   * @param fallbackOrder - Sinks to fall back to, in order; empty for no fallback.
   * @param used - Sinks not to use (they already have it). When one of them is remote, a
   * failure is logged as the rest of a page a person has, and the log does not take it.
   */
  async deliver(message: AlertMessage, route: readonly string[], fallbackOrder: readonly string[], used: Iterable<string> = []): Promise<DeliveryReport> {
    const report: DeliveryReport = { delivered: [], failed: [], fellBack: false, ok: false, owed: [], receipts: new Map() };
    const reachedBefore = [...used].filter((name) => name !== this.logSink.name);
    const taken = new Set<string>([...reachedBefore, ...route]);
    const outcomes = await Promise.all(route.map((name) => this.trySink(name, message, report)));
    // Parallel sends finish in any order; report them in route order.
    const rank = (name: string) => route.indexOf(name);
    report.delivered.sort((a, b) => rank(a) - rank(b));
    report.failed.sort((a, b) => rank(a.sink) - rank(b.sink));
    let remoteOk = outcomes.some((ok, index) => ok && route[index] !== this.logSink.name);
    const logOnlyRoute = route.length > 0 && route.every((name) => name === this.logSink.name);
    for (let index = 0; index < route.length; index++) {
      if (outcomes[index]) continue;
      let replaced = false;
      for (const next of fallbackOrder) {
        if (taken.has(next) || next === this.logSink.name) continue;
        taken.add(next);
        report.fellBack = true;
        if (await this.trySink(next, message, report)) {
          remoteOk = replaced = true;
          break;
        }
      }
      if (!replaced && route[index] !== this.logSink.name) report.owed.push(route[index]!);
    }
    if (!remoteOk && reachedBefore.length > 0) {
      // The rest of a page a person already has (another sink took it earlier): not an
      // undelivered alert, and the log need not repeat it.
      this.logger.error(
        { alert: scrubbedAlert(message), reached: reachedBefore, failedSinks: report.failed.map((f) => ({ sink: f.sink, reason: f.reason })) },
        `ALERT STILL OWED to ${report.owed.join(', ') || route.join(', ')}: ${headline(message)} (it reached ${reachedBefore.join(', ')}); it waits in the pending-page queue`,
      );
      return { ...report, ok: false };
    }
    if (!remoteOk && !report.delivered.includes(this.logSink.name)) {
      if (route.length > 0 && !logOnlyRoute) report.fellBack = true;
      await this.trySink(this.logSink.name, message, report);
    }
    if (!remoteOk && !logOnlyRoute) {
      this.logger.error(
        { alert: scrubbedAlert(message), failedSinks: report.failed.map((f) => ({ sink: f.sink, reason: f.reason })) },
        `ALERT NOT DELIVERED: no sink took ${headline(message)}; it waits in the pending-page queue`,
      );
    }
    return { ...report, ok: remoteOk || (logOnlyRoute && report.delivered.includes(this.logSink.name)) };
  }

  /**
   * Sends `message` to the first sink of `fallbackOrder` (skipping `used` ones) that takes
   * it; the log when none does.
   *
   * @param message - The alert.
   * @param fallbackOrder - Sinks to try, in order.
   * @param used - Sinks not to use.
   */
  async deliverFallback(message: AlertMessage, fallbackOrder: readonly string[], used: Iterable<string>): Promise<DeliveryReport> {
    const report: DeliveryReport = { delivered: [], failed: [], fellBack: true, ok: false, owed: [], receipts: new Map() };
    const taken = new Set(used);
    for (const next of fallbackOrder) {
      if (taken.has(next) || next === this.logSink.name) continue;
      taken.add(next);
      if (await this.trySink(next, message, report)) return { ...report, ok: true };
    }
    await this.trySink(this.logSink.name, message, report);
    this.logger.error(
      { alert: scrubbedAlert(message), failedSinks: report.failed.map((f) => ({ sink: f.sink, reason: f.reason })) },
      `ALERT NOT DELIVERED: no fallback sink took ${headline(message)}; it waits in the pending-page queue`,
    );
    return report;
  }

  private async trySink(name: string, message: AlertMessage, report: DeliveryReport): Promise<boolean> {
    const sink = name === this.logSink.name ? this.logSink : this.sinks.get(name);
    if (sink === undefined) return false;
    try {
      let receipt: SinkReceipt | void;
      if (sink.remote === false) {
        receipt = await sink.send(message, { signal: new AbortController().signal, attempt: 1, memo: new Map() });
      } else {
        const memo = new Map<string, unknown>();
        let attempt = 0;
        receipt = await this.safeCall(sinkOperation(name), (signal) => sink.send(message, { signal, attempt: ++attempt, memo }), { correlationId: message.id });
      }
      alertTelemetry.sink(message, name);
      report.delivered.push(name);
      report.receipts.set(name, receipt ?? {});
      for (const warning of receipt?.warnings ?? []) this.logger.warn({ sink: name, alertId: message.id, type: message.type }, scrubText(warning));
      return true;
    } catch (error) {
      alertTelemetry.sink(message, name, error);
      const reason = describeError(error);
      report.failed.push({ sink: name, error, reason });
      this.logger.error(
        { alert: scrubbedAlert(message), sink: name, reason },
        `ALERT NOT DELIVERED via ${name}: ${headline(message)} (${reason}); falling back`,
      );
      return false;
    }
  }
}
