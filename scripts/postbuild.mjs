// After tsc: the bins are executable, and dist/.build-stamp marks this build (scripts/build-if-stale.mjs).
import { chmodSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const f of ['dist/cli/server.js', 'dist/cli/loadtest.js']) {
  try {
    chmodSync(new URL(f, `file://${root}`), 0o755);
  } catch {}
}
writeFileSync(new URL('dist/.build-stamp', `file://${root}`), `${new Date().toISOString()}\n`);
