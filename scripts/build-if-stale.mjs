// Builds dist/ (tsc) only when a source is newer than the last build, so `npm start` and the
// `prepare`/`prepack` hooks cost nothing when dist/ is current. `--force` always builds.
// The last successful build is marked by dist/.build-stamp (written by `npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.build-stamp');

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

const inputs = ['src', 'tsconfig.json', 'package.json'].map((p) => join(root, p)).filter((p) => existsSync(p));
if (inputs.length === 0 || !existsSync(join(root, 'src'))) process.exit(0); // an installed package: dist/ is all there is
const stale = process.argv.includes('--force') || !existsSync(stamp) || Math.max(...inputs.map(newest)) > statSync(stamp).mtimeMs;
if (!stale) process.exit(0);
const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
