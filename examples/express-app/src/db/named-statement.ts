/** A named prepared statement (node-postgres' query config; PGlite uses text and values). */
export interface Statement {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

interface Compiled {
  readonly source: string;
  readonly text: string;
  readonly keys: readonly string[];
}

const compiled = new Map<string, Compiled>();

/**
 * A {@link Statement} from a text with named parameters (`$inboxId`), numbered in the
 * order of their first use. A statement's variants (with or without the outbox row, on a
 * guess or not) use different subsets of one set of values, and PostgreSQL refuses a
 * positional parameter a text does not use ("could not determine data type of parameter"):
 * numbered here, each text gets exactly the values it uses. No library numbers named
 * parameters for node-postgres' prepared statements (pg-promise's formatting inlines the
 * values instead, and then nothing is prepared). A text is numbered once per name (build
 * the texts once, as constants: the check that a name still stands for its text is then a
 * pointer comparison).
 *
 * @param name - The prepared statement's name (one per text).
 * @param text - SQL with `$name` parameters (letters, digits, `_`; starting with a letter).
 * @param params - A value for every parameter the text uses; extra ones are not sent.
 * @throws TypeError when the text uses a parameter `params` does not hold, or the name
 *   was used for another text.
 * @example
 * ```ts
 * namedStatement('one_client', 'SELECT * FROM "clients" WHERE "id" = $id', { id: clientId });
 * // { name: 'one_client', text: 'SELECT * FROM "clients" WHERE "id" = $1', values: [clientId] }
 * ```
 */
export function namedStatement(name: string, text: string, params: Readonly<Record<string, unknown>>): Statement {
  let numbered = compiled.get(name);
  if (numbered === undefined) {
    const keys: string[] = [];
    const positional = text.replace(/\$([A-Za-z]\w*)/g, (_, key: string) => {
      const index = keys.indexOf(key);
      return `$${index === -1 ? keys.push(key) : index + 1}`;
    });
    numbered = { source: text, text: positional, keys };
    compiled.set(name, numbered);
  } else if (numbered.source !== text) {
    throw new TypeError(`Expected statement ${name} to keep its text.`);
  }
  const values = numbered.keys.map((key) => {
    if (!Object.hasOwn(params, key)) throw new TypeError(`Expected a value for $${key} of statement ${name}.`);
    return params[key];
  });
  return { name, text: numbered.text, values };
}
