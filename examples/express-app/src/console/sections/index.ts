import type { ConsoleSection } from '../section.js';
import { alertsSection } from './alerts.js';
import { needsPersonSection } from './needs-person.js';
import { numberPoolSection } from './number-pool.js';
import { statusSection } from './status.js';

/**
 * The console's sections, in page order: a new section is one module and one line here.
 * HOOK(deliverability): a `haltedSendersSection` (halted senders with "Resume", suppressions
 * and opt-outs with "Clear suppression") goes after needsPersonSection once that work is on
 * main. HOOK(alert-ack): the ack action joins needsPersonSection (see its TSDoc).
 */
export const consoleSections: ReadonlyArray<ConsoleSection<unknown>> = [statusSection, needsPersonSection, alertsSection, numberPoolSection];
