// A local server that speaks OpenAI's Chat Completions wire format as the `openai` SDK
// uses it: POST {baseURL}/chat/completions with a JSON body and `Authorization: Bearer
// <key>`, answering a `chat.completion` object, or OpenAI's error body
// (`{ error: { message, type, param, code } }`) with its HTTP status. Point the real SDK at
// it with `new OpenAI({ apiKey: fake.apiKey, baseURL: fake.baseURL })`. It also serves
// GET {baseURL}/models. Faults (500s, 429s, delays, hangs, resets) come from `fail()`.
import { randomBytes } from 'node:crypto';
import { startFakeHttpServer, type FakeHttpServer, type RecordedRequest } from './fake-http.js';

/** One chat message as the SDK sends it. */
export interface FakeChatMessage {
  readonly role: string;
  readonly content: string;
}

/** A chat completion request the fake accepted. */
export interface FakeChatRequest {
  readonly model: string;
  readonly messages: readonly FakeChatMessage[];
  /** `response_format.type`, when given (`json_object`, `json_schema`, `text`). */
  readonly responseFormat: string | undefined;
  /** The whole JSON body, parsed. */
  readonly body: Record<string, unknown>;
  readonly request: RecordedRequest;
}

/**
 * What the assistant answers: its message content, or the whole choice (a `length` finish,
 * a refusal with `content: null`).
 */
export type FakeChatReply = string | { readonly content: string | null; readonly finishReason?: string; readonly refusal?: string };

/** Decides the assistant's answer to a request. */
export type FakeChatResponder = (request: FakeChatRequest) => FakeChatReply | Promise<FakeChatReply>;

/** Options for {@link startFakeOpenAI}. */
export interface FakeOpenAIOptions {
  /** The API key the fake accepts. @default a random `sk-test-...` */
  readonly apiKey?: string;
  /** Models that exist; others get 404 `model_not_found`. @default any */
  readonly models?: readonly string[];
  /** The assistant's answers. @default `'{}'` */
  readonly respond?: FakeChatResponder;
}

/** The running fake. */
export interface FakeOpenAI extends FakeHttpServer {
  readonly apiKey: string;
  /** The `baseURL` to give the SDK, e.g. `http://127.0.0.1:45123/v1`. */
  readonly baseURL: string;
  /** Completions answered (not the failed ones), in order; `clearRequests()` empties it too. */
  readonly completions: FakeChatRequest[];
  /** Replaces the responder. */
  respond(responder: FakeChatResponder): void;
}

function openAIError(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function errorBodyFor(status: number) {
  switch (status) {
    case 400:
      return openAIError('Invalid request.', 'invalid_request_error', null);
    case 401:
      return openAIError('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    case 429:
      return openAIError('Rate limit reached for requests. Please try again in 1s.', 'requests', 'rate_limit_exceeded');
    case 503:
      return openAIError('The engine is currently overloaded, please try again later.', 'server_error', null);
    default:
      return openAIError('The server had an error while processing your request. Sorry about that!', 'server_error', null);
  }
}

function isMessage(value: unknown): value is FakeChatMessage {
  return typeof value === 'object' && value !== null && typeof (value as FakeChatMessage).role === 'string';
}

/** Roughly a token per 4 characters, as OpenAI's rule of thumb; the usage block needs a number. */
const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/**
 * Starts a fake OpenAI-compatible API (`POST /v1/chat/completions`, `GET /v1/models`) on
 * 127.0.0.1.
 *
 * @param options - Accepted key and models, the assistant's answers.
 * @returns The running fake.
 * @example
 * ```ts
 * const fake = await startFakeOpenAI({ respond: () => JSON.stringify({ urgent: true }) });
 * const openai = new OpenAI({ apiKey: fake.apiKey, baseURL: fake.baseURL });
 * const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Answer in JSON.' }], response_format: { type: 'json_object' } });
 * completion.choices[0].message.content; // '{"urgent":true}'
 * ```
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const apiKey = options.apiKey ?? `sk-test-${randomBytes(12).toString('hex')}`;
  const completions: FakeChatRequest[] = [];
  let responder: FakeChatResponder = options.respond ?? (() => '{}');

  const server = await startFakeHttpServer({
    errorBody: errorBodyFor,
    route: async (request) => {
      if (!request.path.startsWith('/v1/')) return undefined;
      const requestId = { 'x-request-id': `req_${randomBytes(12).toString('hex')}` };
      if (request.headers.authorization !== `Bearer ${apiKey}`) {
        return { status: 401, headers: requestId, body: openAIError('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key') };
      }
      if (request.method === 'GET' && request.path === '/v1/models') {
        const ids = options.models ?? ['gpt-4o-mini'];
        return {
          status: 200,
          headers: requestId,
          body: { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' })) },
        };
      }
      if (request.method !== 'POST' || request.path !== '/v1/chat/completions') return undefined;
      const body = (typeof request.body === 'object' && request.body !== null ? request.body : undefined) as Record<string, unknown> | undefined;
      if (body === undefined)
        return { status: 400, headers: requestId, body: openAIError('We could not parse the JSON body of your request.', 'invalid_request_error', null) };
      const model = body.model;
      if (typeof model !== 'string' || model === '')
        return { status: 400, headers: requestId, body: openAIError('you must provide a model parameter', 'invalid_request_error', null) };
      if (options.models !== undefined && !options.models.includes(model)) {
        return {
          status: 404,
          headers: requestId,
          body: openAIError(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'),
        };
      }
      const messages = Array.isArray(body.messages)
        ? body.messages.filter(isMessage).map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content) }))
        : [];
      if (messages.length === 0)
        return {
          status: 400,
          headers: requestId,
          body: openAIError("'messages' must contain at least one message.", 'invalid_request_error', null, 'messages'),
        };
      const format = (body.response_format as { type?: unknown } | undefined)?.type;
      const responseFormat = typeof format === 'string' ? format : undefined;
      // OpenAI refuses JSON mode unless the prompt mentions JSON; so does the fake.
      if (responseFormat === 'json_object' && !messages.some((m) => /json/i.test(m.content))) {
        return {
          status: 400,
          headers: requestId,
          body: openAIError(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            'invalid_request_error',
            null,
            'messages',
          ),
        };
      }
      const chat: FakeChatRequest = { model, messages, responseFormat, body, request };
      const reply = await responder(chat);
      completions.push(chat);
      const choice =
        typeof reply === 'string'
          ? { content: reply, finishReason: 'stop', refusal: null }
          : { content: reply.content, finishReason: reply.finishReason ?? 'stop', refusal: reply.refusal ?? null };
      const promptTokens = messages.reduce((sum, m) => sum + tokens(m.content), 0);
      const completionTokens = tokens(choice.content ?? '');
      return {
        status: 200,
        headers: requestId,
        body: {
          id: `chatcmpl-${randomBytes(12).toString('hex')}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          system_fingerprint: 'fp_fake',
          choices: [
            { index: 0, message: { role: 'assistant', content: choice.content, refusal: choice.refusal }, logprobs: null, finish_reason: choice.finishReason },
          ],
          usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
        },
      };
    },
  });

  return {
    ...server,
    apiKey,
    baseURL: `${server.url}/v1`,
    completions,
    clearRequests: () => {
      server.clearRequests();
      completions.length = 0;
    },
    respond: (next) => {
      responder = next;
    },
  };
}
