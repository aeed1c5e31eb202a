// A short rule set: typescript-eslint's recommended rules, plus the type-aware rules that catch
// real bugs in asynchronous server code (promises nobody awaits or that are passed where a
// callback's result is ignored), plus `import type` for type-only imports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Generated resolver types (npm run codegen) are checked by tsc and the drift check, not linted.
  // admin/dist is built output; test-results/ holds screenshots.
  { ignores: ['node_modules/**', '**/node_modules/**', '.folio-data/**', 'bench/results/**', 'subgraphs/*/generated/**', 'admin/dist/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `typeof import('graphql')` types a createRequire()d CommonJS copy; allowed.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Stripping control characters from user text is deliberate wherever a regex names them.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests and benchmarks read GraphQL answers, untyped JSON, field by field.
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain JavaScript (this file, the worker-thread entry) is outside tsconfig: no type information.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
