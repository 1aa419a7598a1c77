// Builds the console into dist/web, served by the Versa server under /_versa/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/_versa/',
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Everything ships inside the page: no request leaves the machine, not even for a font.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
});
