import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.cache/**', 'data/**', 'coverage/**', '0/**', 'policy/**/*.wasm', '.tmp-*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      'import-x/no-cycle': ['error', { maxDepth: 10, ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // The layer arrows (core is pure, app uses ports, adapters never import the app…) are held by
      // dependency-cruiser: .dependency-cruiser.cjs, run by `npm run lint` after eslint.
    },
  },
  {
    files: ['*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The Studio talks to Soma only over its public HTTP API (it must work against a remote server).
    files: ['src/entry/web/**/*.ts', 'src/entry/web/**/*.tsx'],
    ignores: ['src/entry/web/vite.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/http/**', '**/cli/**', '**/app/**', '**/adapters/**', '**/core/**', '**/ports/**', '**/shared/**', '**/main', '**/main.js', '**/config', '**/config.js', 'node:*'],
              message: 'src/entry/web imports no server code: it uses the HTTP API only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.mjs', 'scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
