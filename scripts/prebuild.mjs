// prepack: puts the native addon built here into native/prebuilds/<platform>-<arch>/, where
// node-gyp-build finds it, so a project that installs the packed tarball on the same platform loads
// it as it is — no install script to approve, no compiler (the system's libenet, zlib and zstd are
// still needed at run time). Builds the addon first when native/build has none.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const native = fileURLToPath(new URL('../native', import.meta.url));
const built = join(native, 'build', 'Release', 'enet_actor.node');
if (!existsSync(built)) {
  // Inside an npm script npm names its own node-gyp; elsewhere npx finds one.
  const gyp = process.env.npm_config_node_gyp;
  const result = gyp
    ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: native, stdio: 'inherit' })
    : spawnSync('npx', ['node-gyp', 'rebuild'], { cwd: native, stdio: 'inherit' });
  if (result.status !== 0 || !existsSync(built)) {
    process.stderr.write('prebuild: could not build the native addon (see above; scripts/setup.sh installs what it needs)\n');
    process.exit(1);
  }
}
const libc = platform() === 'linux' ? (existsSync('/etc/alpine-release') ? '.musl' : '.glibc') : '';
const dir = join(native, 'prebuilds', `${platform()}-${arch()}`);
mkdirSync(dir, { recursive: true });
for (const old of readdirSync(dir)) rmSync(join(dir, old));
copyFileSync(built, join(dir, `node.napi${libc}.node`));
process.stdout.write(`prebuild: ${join('native', 'prebuilds', `${platform()}-${arch()}`, `node.napi${libc}.node`)}\n`);
