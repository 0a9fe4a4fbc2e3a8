/**
 * Decides, exactly once, how the reply to an inbound SMS travels: in the webhook's TwiML
 * answer (processing finished in time) or through the outbox and the Messages API (the
 * webhook already answered with a holding reply). Processing claims the TwiML path inside
 * its transaction, just before committing; the webhook closes the channel when its time
 * budget runs out. Whoever comes first wins, so a reply is never sent both ways, nor lost.
 */
export class ReplyChannel {
  private state: 'open' | 'twiml' | 'closed' = 'open';

  /** Processing asks to answer through TwiML; false means "use the outbox". */
  claimForTwiml(): boolean {
    if (this.state === 'open') this.state = 'twiml';
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
}
