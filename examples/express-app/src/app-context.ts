import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { AlertService } from '@hardening/alerting';
import type { BreakerRegistry } from '@hardening/circuit-breaker';
import type { Logger, SafeCall } from '@hardening/core';
import type { IdempotencyGuard, IdempotencyStore, WebhookDedup } from '@hardening/idempotency';
import type { SilenceBook } from './admin/silence-book.js';
import type { AlertInput } from './alerts/alert-input.js';
import type { Config } from './config/config.js';
import type { Database } from './db/database.js';
import type { Deliverability } from './domain/deliverability/deliverability.js';
import type { Extractor } from './domain/extractor.js';
import type { AppHealth } from './health.js';
import type { ProcessingDeps } from './domain/routing.js';
import type { InboxSpool } from './inbox-spool.js';
import type { BusinessDirectory } from './ingest/business-directory.js';
import type { JobQueue } from './jobs/job-queue.js';
import type { Metrics } from './metrics.js';
import type { SmsSender } from './providers/sms-sender.js';

/**
 * Everything the routes and jobs share, built once at start (see server.ts). Routes and
 * jobs take what they need from here; nothing reaches for globals.
 */
export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly safeCall: SafeCall;
  /** Where idempotency records live: Redis when configured, else the database. */
  readonly idempotencyStore: IdempotencyStore;
  readonly dedup: WebhookDedup;
  /** Runs a side effect once per key (the fail-safe SMS, keyed on CallSid). */
  readonly once: IdempotencyGuard;
  readonly queue: JobQueue;
  readonly spool: InboxSpool;
  readonly metrics: Metrics;
  /** The breakers of every provider (shared through Redis when configured). */
  readonly breakers: BreakerRegistry;
  readonly alerts: AlertService;
  /** Raises an alert without waiting; never throws (see alerts/alert-service.ts). */
  readonly alert: (alert: AlertInput) => void;
  readonly extractor: Extractor;
  readonly processing: ProcessingDeps;
  /** Undefined when Twilio is not configured (SMS are logged as not sent). */
  readonly sms: SmsSender | undefined;
  /** Opt-out, suppression, sender halts and the delivery-status machine (domain/deliverability). */
  readonly deliverability: Deliverability;
  /** Undefined when Slack is not configured. */
  readonly slack: WebClient | undefined;
  /** How long the SMS webhook waits for processing before answering with a holding reply. */
  readonly inlineBudgetMs: number;
  /** Redis when REDIS_URL is set (rate limits and alert silences shared across instances). */
  readonly redis: Redis | undefined;
  /** Health checks, lifecycle (`markStarted`) and recovery actions (see health.ts). */
  readonly health: AppHealth;
  /** Alert silences by id, shared through Redis when configured (see admin/silence-book.ts). */
  readonly silences: SilenceBook;
  /** The businesses behind our numbers as last read: missed calls' texts while the database does not answer. */
  readonly directory: BusinessDirectory;
  /** How long a Slack signal's evaluation may take before it is left `timed_out` for a replay. */
  readonly signalEvaluationTimeoutMs: number;
}
