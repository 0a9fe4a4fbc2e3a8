/**
 * The start-up banner printed when alerts are switched off: wide, loud, and on stderr, so
 * it shows in any log viewer and in a terminal.
 *
 * @param reason - Why (`ALERTS_DISABLED=true`).
 * @returns The banner text.
 */
export function disabledBanner(reason: string): string {
  const width = 78;
  const bar = '!'.repeat(width);
  const line = (text: string) => `!!  ${text.padEnd(width - 8)}  !!`;
  return [
    bar,
    bar,
    line('ALERTS ARE DISABLED'),
    line(''),
    line(`Reason: ${reason}`.slice(0, width - 8)),
    line('No SMS, Slack, Sentry or PagerDuty alert will be sent.'),
    line('Alerts are only written to the log, as "ALERTS DISABLED: not sent".'),
    line('Unset ALERTS_DISABLED (or pass disabled: false) to switch them back on.'),
    bar,
    bar,
  ].join('\n');
}
