// One linter for the project: typescript-eslint's type-aware rules, so forgotten promises fail the build.
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layer table of docs/architecture.md, lowest first: a folder of src/ imports only from the folders
 * before it. A type two layers share moves down to the lower one.
 */
const LAYERS = [
  'core',
  'domain',
  'store',
  'telemetry',
  'runtime',
  'lambda',
  's3',
  'ssm',
  'invoke',
  'gateway',
  'deploy',
  'stacks',
  'api',
  'console',
  'config',
  'server',
  'cli',
];
const SRC = path.join(import.meta.dirname, 'src');

/** The layer (first folder under src/) a file or import path lies in, if it lies in one. */
function layerOf(file) {
  const rel = path.relative(SRC, file);
  return rel.startsWith('..') ? undefined : LAYERS.indexOf(rel.split(path.sep)[0]);
}

const layers = {
  rules: {
    'imports-point-down': {
      meta: {
        type: 'problem',
        schema: [],
        messages: { up: 'src/{{from}} may not import from src/{{to}}, which lies above it in the layer table (docs/architecture.md).' },
      },
      create(context) {
        const from = layerOf(context.filename);
        if (from === undefined || from < 0) return {};
        const check = (node) => {
          const source = node.source;
          if (!source || source.type !== 'Literal' || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
          const to = layerOf(path.resolve(path.dirname(context.filename), source.value));
          if (to !== undefined && to > from)
            context.report({ node: source, messageId: 'up', data: { from: LAYERS[from], to: LAYERS[to] } });
        };
        return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
      },
    },
  },
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.versa/', 'examples/**/node_modules/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // web/ has its own tsconfig (DOM, JSX); the Vite config is checked on its own.
      parserOptions: { projectService: { allowDefaultProject: ['web/vite.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself tracks.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  { files: ['src/**/*.ts'], plugins: { layers }, rules: { 'layers/imports-point-down': 'error' } },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null },
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' },
    },
  },
);
