/**
 * The arrows of ../shared/STYLE.md, held by `npm run lint` (eslint, then depcruise):
 *
 *   entry → app → core/ports ← adapters;  shared ← everything;  main.ts (composition root) → everything
 *
 * Rules apply to source files; co-located `*.test.ts` files wire real adapters into what they test
 * and may import anything (test/support and test/fixtures included), but nothing else may import them.
 * See docs/architecture.md for the layers and why each rule is there.
 */
const fs = require('node:fs');
const path = require('node:path');

const test = '\\.test\\.ts$';

/**
 * Folders below a layer that publish an `index.ts` surface. Files outside such a folder import it only
 * through its `index.ts`. `src/ports` and `src/shared` are flat collections of small modules: each
 * file there is its own surface.
 */
function surfaces(dir = 'src', depth = 0) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const folder = path.posix.join(dir, entry.name);
    if (depth >= 1 && fs.existsSync(path.join(folder, 'index.ts'))) found.push(folder);
    found.push(...surfaces(folder, depth + 1));
  }
  return found;
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const deepImportRules = surfaces().map((folder) => ({
  name: 'no-deep-import',
  comment: `${folder}/ is used through its index.ts from outside the folder`,
  severity: 'error',
  // src/prestart.ts runs before the server's modules load and must not pull a folder's whole surface in.
  from: { path: '^src/', pathNot: [`^${escapeRegExp(folder)}/`, test, '^src/prestart\\.ts$'] },
  to: { path: `^${escapeRegExp(folder)}/`, pathNot: `^${escapeRegExp(folder)}/index\\.ts$` },
}));

module.exports = {
  forbidden: [
    {
      name: 'shared-imports-nothing',
      comment: 'shared/ (ids, Result, error codes, small utils) imports nothing else of Soma',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'ports-are-types',
      comment: 'ports/ describe what the app needs: only other ports and shared/',
      severity: 'error',
      from: { path: '^src/ports/' },
      to: { path: '^src/', pathNot: '^src/(ports|shared)/' },
    },
    {
      name: 'core-is-pure',
      comment: 'core/ is pure logic: core, ports and shared only',
      severity: 'error',
      from: { path: '^src/core/', pathNot: test },
      to: { path: '^src/', pathNot: '^src/(core|ports|shared)/' },
    },
    {
      name: 'app-uses-ports',
      comment: 'use cases import ports, core and shared, never an adapter, an entry point or the composition root',
      severity: 'error',
      from: { path: '^src/app/', pathNot: test },
      to: { path: '^src/', pathNot: '^src/(app|core|ports|shared)/' },
    },
    {
      name: 'adapters-implement-ports',
      comment: 'adapters implement ports (with core and shared); they never import the app, an entry point or the composition root',
      severity: 'error',
      from: { path: '^src/adapters/', pathNot: test },
      to: { path: '^src/', pathNot: '^src/(adapters|core|ports|shared)/' },
    },
    {
      name: 'entry-calls-app',
      comment: 'entry points call use cases (app/) and read ports and shared types; adapters come from the composition root',
      severity: 'error',
      from: { path: '^src/entry/', pathNot: test },
      to: { path: '^src/', pathNot: ['^src/(entry|app|ports|shared)/', '^src/(main|config|prestart)\\.ts$'] },
    },
    {
      name: 'only-the-cli-starts-the-composition-root',
      comment: 'src/main.ts, src/prestart.ts and src/config.ts are the composition root; of the entry points only the CLI (the process entry) calls into it',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/entry/cli/', '^src/(main|prestart)\\.ts$', test] },
      to: { path: '^src/(main|config|prestart)\\.ts$' },
    },
    {
      name: 'web-is-static',
      comment: 'entry/web is the static UI: no server imports',
      severity: 'error',
      from: { path: '^src/entry/web/', pathNot: test },
      to: { path: '^src/', pathNot: ['^src/entry/web/', '^src/shared/'] },
    },
    ...deepImportRules,
    {
      name: 'no-test-code-in-the-product',
      comment: 'product code never imports tests, test/support or test/fixtures',
      severity: 'error',
      from: { path: '^src/', pathNot: test },
      to: { path: ['^test/', test] },
    },
    {
      name: 'no-test-scaffolding-in-src',
      comment: 'every source file under src/ is reachable from an entry point (src/main.ts, src/entry/cli/main.ts, the Studio\'s src/entry/web/main.tsx): test helpers and fixtures live in test/support and test/fixtures',
      severity: 'error',
      from: { path: '^src/(main\\.ts|entry/cli/main\\.ts|entry/web/main\\.tsx)$' },
      to: { path: '^src/', pathNot: [test, '\\.d\\.ts$', '\\.css$', '^src/(main\\.ts|entry/cli/main\\.ts|entry/web/main\\.tsx|entry/web/vite\\.config\\.ts)$'], reachable: false },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|test)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
