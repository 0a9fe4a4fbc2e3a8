import type { Db } from './database.js';

/** The client an interactive transaction hands its callback. */
export type Tx = Parameters<Extract<Parameters<Db['$transaction']>[0], (...args: never[]) => unknown>>[0];

/** Either the app's client or a transaction client: for functions that work in both. */
export type DbOrTx = Db | Tx;
