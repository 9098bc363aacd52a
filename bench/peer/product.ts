/**
 * The product modules the peer bench drives, loaded as `soma` runs them: from the compiled build
 * (dist/server, `npm run build`) when it was built from the sources as they are now — what
 * `bin/soma.mjs` runs — else from the TypeScript sources through tsx (after an edit, before a build).
 * tsx's transform keeps every function's name with a helper call where the function is created
 * (esbuild's `keepNames`), which costs the turn path CPU the shipped server does not pay.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
// @ts-expect-error — a plain .mjs helper of bin/ (no types); buildIsCurrent(): boolean
import { buildIsCurrent, root } from '../../bin/compiled-build.mjs';

type Config = typeof import('../../src/config.js');
type Main = typeof import('../../src/main.js');
type Tenancy = typeof import('../../src/app/tenancy.js');
type Capsules = typeof import('../../src/app/capsules/index.js');
type Conversations = typeof import('../../src/app/conversations.js');
type SendMessage = typeof import('../../src/app/send-message/index.js');

const fromBuild = (buildIsCurrent as () => boolean)() && process.env.SOMA_BENCH_SOURCES !== '1';
const base = fromBuild ? path.join(root as string, 'dist', 'server') : path.join(root as string, 'src');
const load = async <T>(module: string): Promise<T> => (await import(pathToFileURL(path.join(base, fromBuild ? `${module}.js` : `${module}.ts`)).href)) as T;

/** Where the product was loaded from: `build` (dist/server) or `sources` (tsx). */
export const productSource = fromBuild ? 'build' : 'sources';
export const { loadConfig } = await load<Config>('config');
export const { createSoma } = await load<Main>('main');
export const { createTenant } = await load<Tenancy>('app/tenancy');
export const { createCapsule } = await load<Capsules>('app/capsules/index');
export const { createConversation } = await load<Conversations>('app/conversations');
export const { sendMessage } = await load<SendMessage>('app/send-message/index');
