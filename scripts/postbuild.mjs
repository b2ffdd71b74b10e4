// After tsc: the bins are executable, the operator panel's page and assets sit beside its code
// (dist/admin/assets), and dist/.build-stamp marks this build (scripts/build-if-stale.mjs).
import { chmodSync, cpSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const f of ['dist/cli/server.js', 'dist/cli/loadtest.js']) {
  try {
    chmodSync(new URL(f, `file://${root}`), 0o755);
  } catch {}
}
cpSync(new URL('src/admin/assets', `file://${root}`), new URL('dist/admin/assets', `file://${root}`), { recursive: true });
writeFileSync(new URL('dist/.build-stamp', `file://${root}`), `${new Date().toISOString()}\n`);
