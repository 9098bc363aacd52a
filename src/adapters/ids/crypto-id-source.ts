import { randomBytes, randomUUID } from 'node:crypto';
import type { IdSource } from '../../ports/id-source.js';

/** Ids and secrets from the operating system's CSPRNG. */
export const cryptoIdSource: IdSource = {
  uuid: () => randomUUID(),
  token: (bytes, encoding) => randomBytes(bytes).toString(encoding),
};
