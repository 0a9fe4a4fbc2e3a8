/**
 * What an owner's or customer's reply says, as far as the app cares.
 */
export interface Extraction {
  /** A business name, when the reply gives one. */
  readonly businessName?: string | undefined;
  /** A service area, when the reply gives one. */
  readonly serviceArea?: string | undefined;
  /** A yes (true) or no (false), when the reply is one. */
  readonly confirmation?: boolean | undefined;
  /** The message reports an emergency (a burst pipe, no heat, sparking wires...). */
  readonly urgent: boolean;
}

/** What the reply is expected to contain. */
export type ExtractionGoal = 'business_name' | 'service_area' | 'confirmation' | 'customer_message';

/**
 * Understands replies. The deterministic default needs nothing; the OpenAI-compatible one
 * (see openai-extractor.ts) is used when `OPENAI_API_KEY` is set and falls back to the
 * default when the provider fails.
 */
export interface Extractor {
  readonly name: string;
  extract(goal: ExtractionGoal, text: string, signal?: AbortSignal): Promise<Extraction>;
}

const urgentWords =
  /\b(urgent|emergency|asap|flood(?:ing|ed)?|burst|leak(?:ing)?|no (?:heat|hot water|power)|sparks?|sparking|smoke|gas smell|smell(?:s)? gas|overflow(?:ing)?)\b/i;
const yes = /^\s*(y|yes|yep|yeah|sure|ok|okay|confirm(?:ed)?|go|live|ready)\b/i;
const no = /^\s*(n|no|nope|not yet|later|stop)\b/i;
const namePrefixes = /^(?:(?:my |our |the )?(?:business|company)(?: name)? is|it'?s|we(?:'re| are)|this is|i'?m|called)\s+/i;
const areaPrefixes = /^(?:(?:we |i )?(?:serve|cover|work in|operate in)|(?:our |the )?(?:service )?area is|in)\s+/i;

function clean(text: string, prefixes: RegExp): string | undefined {
  const value = text
    .trim()
    .replace(prefixes, '')
    .replace(/[.!]+$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return value.length >= 2 && value.length <= 120 ? value : undefined;
}

/**
 * Rules that work offline: a name or area is the reply minus a few lead-ins ("it's",
 * "we serve"), a confirmation is a yes/no word, urgency is a keyword list.
 */
export const deterministicExtractor: Extractor = {
  name: 'deterministic',
  // eslint-disable-next-line @typescript-eslint/require-await -- Extractor.extract is async (the LLM extractor awaits); a throw stays a rejection
  async extract(goal, text) {
    const urgent = urgentWords.test(text);
    switch (goal) {
      case 'business_name':
        return { businessName: clean(text, namePrefixes), urgent };
      case 'service_area':
        return { serviceArea: clean(text, areaPrefixes), urgent };
      case 'confirmation':
        return { confirmation: yes.test(text) ? true : no.test(text) ? false : undefined, urgent };
      default:
        return { urgent };
    }
  },
};
