// The demo's readable timeline: one line per thing that happened, with the scripted time
// of day, who acted, and what they saw. Every phone number is masked, as in the app's logs.
import { scrubText } from '@hardening/core';

/** Who a timeline line is about. */
export type Actor = 'operator' | 'owner' | 'customer' | 'app' | 'twilio' | 'stripe' | 'slack' | 'breaker' | 'monitor' | 'log' | 'note';

const width = 9;

/** Collects and prints the timeline. */
export class Timeline {
  readonly lines: string[] = [];
  private clock = '';

  constructor(private readonly write: (line: string) => void) {}

  /** Moves the scripted clock (e.g. `08:05`); the next line shows it. */
  at(time: string): this {
    this.clock = time;
    return this;
  }

  /** One event. Text is scrubbed (phone numbers, secrets) before it is printed. */
  say(actor: Actor, text: string): void {
    const time = this.clock.padEnd(5);
    this.clock = '';
    this.emit(`${time}  ${actor.padEnd(width)}${scrubText(text)}`);
  }

  /** A section heading. */
  heading(text: string): void {
    this.emit('');
    this.emit(`── ${text} ${'─'.repeat(Math.max(3, 72 - text.length))}`);
  }

  /** A plain line (already safe to print). */
  plain(text: string): void {
    this.emit(text);
  }

  private emit(line: string): void {
    this.lines.push(line);
    this.write(line);
  }
}
