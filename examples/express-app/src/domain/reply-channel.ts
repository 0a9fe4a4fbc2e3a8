import type { OutboundPurpose } from './outbox.js';

/**
 * Decides, exactly once, how the reply to an inbound SMS travels: in the webhook's TwiML
 * answer (processing finished in time) or through the outbox and the Messages API (the
 * webhook already answered with a holding reply). Processing claims the TwiML path inside
 * its transaction, just before committing; the webhook closes the channel when its time
 * budget runs out. Whoever comes first wins, so a reply is never sent both ways, nor lost.
 *
 * @example
 * ```ts
 * const channel = new ReplyChannel();
 * channel.claimForTwiml('reply'); // true: processing answers in the TwiML
 * channel.close(); // false: the webhook waits for that write
 * channel.claimedPurpose; // 'reply'
 * ```
 */
export class ReplyChannel {
  private state: 'open' | 'twiml' | 'closed' = 'open';
  private purpose: OutboundPurpose | undefined;

  /**
   * Processing asks to answer through TwiML; false means "use the outbox".
   *
   * @param purpose - The outbox purpose the reply would have: should the webhook give up on
   *   the write after all (the database hung with it in flight), the reply is handed to the
   *   outbox under it.
   */
  claimForTwiml(purpose: OutboundPurpose): boolean {
    if (this.state === 'open') {
      this.state = 'twiml';
      this.purpose = purpose;
    }
    return this.state === 'twiml';
  }

  /**
   * The webhook gives up waiting; true means it may answer with the holding reply, false
   * that processing already claimed TwiML and its result must be awaited.
   */
  close(): boolean {
    if (this.state === 'open') this.state = 'closed';
    return this.state === 'closed';
  }

  /** The purpose of the reply processing claimed the TwiML answer for; undefined while unclaimed. */
  get claimedPurpose(): OutboundPurpose | undefined {
    return this.purpose;
  }
}
