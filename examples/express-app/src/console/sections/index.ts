import type { ConsoleSection } from '../section.js';
import { alertsSection } from './alerts.js';
import { deliverabilitySection } from './deliverability.js';
import { needsPersonSection } from './needs-person.js';
import { numberPoolSection } from './number-pool.js';
import { statusSection } from './status.js';

/**
 * The console's sections, in page order: a new section is one module and one line here.
 */
export const consoleSections: ReadonlyArray<ConsoleSection<unknown>> = [
  statusSection,
  needsPersonSection,
  deliverabilitySection,
  alertsSection,
  numberPoolSection,
];
