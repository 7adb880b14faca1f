import { defineConfig } from 'vite';

// The build goes where the Go binary embeds it (internal/ui/dist). JSX is
// compiled by esbuild for Preact; no other plugin is needed.
export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: '../internal/ui/dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:7070' } },
});
