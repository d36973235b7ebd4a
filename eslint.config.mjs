// @ts-check
import tseslint from 'typescript-eslint';

/** Module boundaries (STYLE rule 9): which @callbacks/* library each project may import. */
const ALLOWED_LIBS = {
  'libs/config': [],
  'libs/contracts': [],
  'libs/signing': [],
  'libs/url-policy': [],
  'libs/queue': ['config', 'contracts'],
  'libs/persistence': ['config', 'contracts'],
  'libs/observability': ['config', 'contracts', 'queue'],
  'libs/testing': ['config', 'persistence'],
  'libs/telemetry': ['config'],
  'apps/api': ['config', 'contracts', 'observability', 'persistence', 'queue', 'signing', 'url-policy', 'testing', 'telemetry'],
  'apps/worker': ['config', 'contracts', 'observability', 'persistence', 'queue', 'signing', 'url-policy', 'testing', 'telemetry'],
};
const ALL_LIBS = ['config', 'contracts', 'observability', 'persistence', 'queue', 'signing', 'telemetry', 'testing', 'url-policy'];
/** Component specs of a library (its classes against real PostgreSQL or Redis) may use the test helpers too. */
const SPEC_LIBS = { 'libs/persistence/src/**/*.spec.ts': [...ALLOWED_LIBS['libs/persistence'], 'testing'] };

const boundaries = [
  ...Object.entries(ALLOWED_LIBS).map(([root, allowed]) => [`${root}/**/*.ts`, allowed]),
  ...Object.entries(SPEC_LIBS),
].map(([files, allowed]) => ({
  files: [files],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...ALL_LIBS.filter((lib) => !allowed.includes(lib)).map((lib) => ({
            group: [`@callbacks/${lib}`],
            message: `${files} may not depend on @callbacks/${lib}`,
          })),
          {
            group: ['**/apps/api/**', '**/apps/worker/**', '../../worker/**', '../../api/**'],
            message: 'apps never import each other; share through libs/',
          },
          { group: ['**/libs/*/src/**'], message: 'import a library through its @callbacks/* alias (its index.ts)' },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.nx/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  ...boundaries,
  {
    // Process entry points and test set-up talk to the terminal before any logger exists.
    files: [
      '**/main.ts',
      '**/migrate.ts',
      '**/reencrypt.ts',
      'libs/config/src/start-service.ts',
      'libs/testing/src/global-*.ts',
      'scripts/**',
      'bench/**',
      'test/faults/**',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    // Jest's global set-up runs outside the module mapper, so it reaches sibling sources directly.
    files: ['libs/testing/src/global-*.ts', 'libs/testing/src/test-run.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
