// Builds the harness page into dist/, which is committed: the browser journey (and CI) need no npm.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const NO_MAPS = fileURLToPath(new URL('./src/no-maps.js', import.meta.url));

// Web Forms loads OpenLayers (a 1 MB chunk) only for questions with a map appearance; fangpin's forms have
// none (their geopoint is the plain "get my location" question), so the chunk is left out of dist/
const withoutMaps = {
  name: 'fangpin-without-maps',
  enforce: 'pre',
  resolveId(source, importer) {
    if (importer?.includes('@getodk/web-forms') && /^\.\/MapBlock-[\w-]+\.js$/.test(source)) return NO_MAPS;
    return null;
  },
};

export default defineConfig({
  base: './', // the test serves dist/ under any path of the fangpin origin (Playwright page.route)
  plugins: [withoutMaps],
  define: {
    __VUE_OPTIONS_API__: 'true', // PrimeVue's components use the options API
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4096,
  },
});
