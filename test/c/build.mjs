#!/usr/bin/env node
// Builds the C test and benchmark programs against the system libenet:
//   test/c/*.c  -> test/c/bin/<name>
//   bench/c/*.c -> bench/c/bin/<name>
// with `cc -O2 -Wall -Wextra -Werror <file> -o <out> $(pkg-config --cflags --libs libenet) -lm`.
// A target newer than its source is skipped. Usable as a script (npm `pretest`) or as a module:
//   import { buildCPrograms } from '../test/c/build.mjs'
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

export class BuildError extends Error {}

function enetFlags() {
  let out;
  try {
    out = execFileSync('pkg-config', ['--cflags', '--libs', 'libenet'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const why = err.code === 'ENOENT' ? 'pkg-config is not installed' : 'pkg-config cannot find libenet';
    throw new BuildError(
      `${why}; the C test/bench programs need the ENet development files.\n` +
        `Install them with:  sudo apt-get install libenet-dev pkg-config`,
    );
  }
  return out.split(/\s+/).filter(Boolean);
}

/**
 * Compile every C program. Returns { built: string[], skipped: string[] } (output paths).
 * Throws BuildError with a readable message on failure.
 */
export function buildCPrograms({ quiet = false, force = false } = {}) {
  const log = quiet ? () => {} : (m) => process.stderr.write(m + '\n');
  const dirs = [join(root, 'test', 'c'), join(root, 'bench', 'c')];
  const jobs = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.c')) continue;
      jobs.push({ src: join(dir, f), out: join(dir, 'bin', basename(f, '.c')) });
    }
  }
  const built = [];
  const skipped = [];
  if (jobs.length === 0) return { built, skipped };
  const flags = enetFlags();
  const cc = process.env.CC || 'cc';
  // A header beside the sources (bench/c/bench.h) is part of every program of its folder.
  const newestHeader = (dir) => Math.max(0, ...readdirSync(dir).filter((f) => f.endsWith('.h')).map((f) => statSync(join(dir, f)).mtimeMs));
  for (const { src, out } of jobs) {
    const sourceTime = Math.max(statSync(src).mtimeMs, newestHeader(dirname(src)));
    if (!force && existsSync(out) && statSync(out).mtimeMs > sourceTime) {
      skipped.push(out);
      continue;
    }
    mkdirSync(dirname(out), { recursive: true });
    const args = ['-O2', '-Wall', '-Wextra', '-Werror', src, '-o', out, ...flags, '-lm'];
    log(`[build] ${cc} ${args.map((a) => a.replace(root + '/', '')).join(' ')}`);
    try {
      execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    } catch (err) {
      if (err.code === 'ENOENT') {
        throw new BuildError(`C compiler '${cc}' not found: install one (sudo apt-get install build-essential)`);
      }
      throw new BuildError(`compiling ${src.replace(root + '/', '')} failed (see the compiler output above)`);
    }
    built.push(out);
  }
  log(`[build] C programs: ${built.length} built, ${skipped.length} up to date`);
  return { built, skipped };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    buildCPrograms({ force: process.argv.includes('--force') });
  } catch (err) {
    process.stderr.write(`test/c/build.mjs: ${err.message}\n`);
    process.exit(1);
  }
}
