// Builds, once, the two Go tools the stack's tests use, and reuses them:
// - the OpenTelemetry Collector of collector/manifest.yaml, with the collector
//   builder, from the Go module proxy;
// - compose-check (scripts/compose-check), which loads docker-compose.yml the
//   way Docker Compose does, schema included.
// Both go to .cache/ (ignored by git), under a name that changes with their sources.
//
//   node scripts/go-tools.mjs collector        build if needed, print the collector's path
//   node scripts/go-tools.mjs compose-check    the same for compose-check
//   node scripts/go-tools.mjs validate         `validate` the collector's configurations, and compose-check
//
// OTEL_WINSTON_GO_CACHE moves the cache elsewhere (a folder shared by several clones).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = resolve(process.env.OTEL_WINSTON_GO_CACHE ?? join(ROOT, '.cache'));
const MANIFEST = join(ROOT, 'collector', 'manifest.yaml');
const COMPOSE_CHECK = join(ROOT, 'scripts', 'compose-check');

function say(text) {
  process.stderr.write(`go-tools: ${text}\n`);
}

/** Runs a command; on failure, throws with what it printed. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.error?.code === 'ENOENT') throw new Error(`\`${command}\` was not found on PATH`);
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-40);
    throw new Error(
      `\`${command} ${args.join(' ')}\` failed (exit ${result.status}):\n${output.join('\n')}`,
    );
  }
  return result.stdout;
}

/** Go must be there, and new enough for the collector; says how to get it otherwise. */
function requireGo() {
  let version;
  try {
    version = run('go', ['env', 'GOVERSION']).trim();
  } catch {
    throw new Error(
      'Go is needed to build the OpenTelemetry Collector and compose-check that the stack tests use, ' +
        'and `go` is not on PATH. Install Go 1.24 or newer (https://go.dev/dl/) and run this again; ' +
        'the builds need the Go module proxy (GOPROXY) to be reachable.',
    );
  }
  const [major, minor] = version.replace(/^go/, '').split('.').map(Number);
  if (!(major > 1 || (major === 1 && minor >= 24))) {
    throw new Error(`Go 1.24 or newer is needed to build the collector, found ${version}`);
  }
}

function digest(...parts) {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex').slice(0, 12);
}

/**
 * Builds into a temporary folder and renames it into place, so a cache entry is
 * never half built. When another process finished the same entry first, its
 * build is kept and this one is dropped: an entry, once there, never changes.
 */
function buildInto(target, file, build) {
  const temporary = `${target}.partial-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  try {
    build(temporary);
    if (!existsSync(join(temporary, file))) throw new Error(`the build made no ${file}`);
    try {
      renameSync(temporary, target);
    } catch (error) {
      if (!existsSync(join(target, file))) throw error;
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
}

/** What a built binary depends on besides its sources: the machine it is built for. */
const PLATFORM = `${process.platform}-${process.arch}`;

/**
 * How the builder and the collector are compiled; part of the collector's cache key.
 *
 * A cold build (empty Go module and build caches) is almost all compiling: on 2
 * cores, installing the builder took ~1 min, `go mod tidy` and `go mod download`
 * ~35 s (600 MB of modules), compiling the collector's ~1000 packages 6 to 9 min
 * with the builder's default flags (~440 s of CPU), linking ~5 s. So:
 * - gcflags `all=-N -l` (no optimizations, no inlining) cuts the compiling's CPU
 *   by ~40 %. The binary is for the tests, which do not notice that it is slower;
 *   what it accepts and does is the same.
 * - ldflags `-s -w` (no symbol table, no DWARF) is the builder's default, said here
 *   so that the key holds it; the builder always adds -trimpath.
 * - The builder is installed with the same -trimpath and gcflags, so the packages
 *   both need (the standard library and ~50 more, ~290 in all) are compiled once
 *   and the collector's build takes them from Go's build cache.
 * With warm Go caches (another clone, or a cleared .cache/) a build is seconds.
 * compose-check is built with the same flags, for the same reason.
 */
const COLLECTOR_GCFLAGS = 'all=-N -l';
const COLLECTOR_LDFLAGS = '-s -w';
const GO_BUILD_FLAGS = [
  '-trimpath',
  `-gcflags=${COLLECTOR_GCFLAGS}`,
  `-ldflags=${COLLECTOR_LDFLAGS}`,
];

/** How long since `started`, for the messages. */
function seconds(started) {
  return `${Math.round((Date.now() - started) / 1000)} s`;
}

/** The collector of collector/manifest.yaml, built with the builder of the same version. */
export function collectorBinary() {
  const manifest = readFileSync(MANIFEST, 'utf8').replace(/\r\n/g, '\n');
  const version = /^dist:\n(?:[ \t]+.*\n)*?[ \t]+version:[ \t]*([\d.]+)/m.exec(manifest)?.[1];
  if (version === undefined) throw new Error(`no dist.version in ${MANIFEST}`);
  const name = /^[ \t]+name:[ \t]*(\S+)/m.exec(manifest)?.[1] ?? 'otelcol';
  const flags = GO_BUILD_FLAGS.join('\n');
  const target = join(CACHE, 'otelcol', `${version}-${PLATFORM}-${digest(manifest, '\0', flags)}`);
  const binary = join(target, name);
  if (existsSync(binary)) return binary;

  requireGo();
  const gobin = join(CACHE, 'otelcol', `builder-${version}-${PLATFORM}-${digest(flags)}`);
  const builder = join(gobin, 'builder');
  say(
    `building the OpenTelemetry Collector ${version} (once): with empty Go caches this takes ` +
      'about 5 minutes of 2 cores (installing the builder ~1 min, modules ~35 s, compiling the rest); ' +
      'with a warm Go build cache, seconds',
  );
  if (!existsSync(builder)) {
    const started = Date.now();
    say(`installing the collector builder v${version}`);
    run(
      'go',
      ['install', ...GO_BUILD_FLAGS, `go.opentelemetry.io/collector/cmd/builder@v${version}`],
      { env: { ...process.env, GOBIN: gobin } },
    );
    say(`installed the builder in ${seconds(started)}`);
  }
  const started = Date.now();
  buildInto(target, name, (dir) => {
    const config = join(dir, 'manifest.yaml');
    writeFileSync(config, manifest.replace(/^dist:\n/m, `dist:\n  output_path: ${dir}\n`));
    // In two steps, to say how long each took: the sources and their modules
    // (`go mod tidy`, `go mod download`), then `go build`.
    run(builder, ['--config', config, '--skip-compilation'], { cwd: dir });
    say(`generated the sources and downloaded their modules in ${seconds(started)}; compiling`);
    const compiling = Date.now();
    run(
      builder,
      [
        '--config',
        config,
        '--skip-generate',
        '--skip-get-modules',
        `--gcflags=${COLLECTOR_GCFLAGS}`,
        `--ldflags=${COLLECTOR_LDFLAGS}`,
      ],
      { cwd: dir },
    );
    say(`compiled in ${seconds(compiling)}`);
  });
  say(`built ${binary} in ${seconds(started)}`);
  return binary;
}

/** scripts/compose-check, built with its pinned compose-go. */
export function composeCheckBinary() {
  const sources = ['main.go', 'go.mod', 'go.sum'].map((f) => readFileSync(join(COMPOSE_CHECK, f)));
  const target = join(
    CACHE,
    'compose-check',
    `${PLATFORM}-${digest(...sources, '\0', GO_BUILD_FLAGS.join('\n'))}`,
  );
  const binary = join(target, 'compose-check');
  if (existsSync(binary)) return binary;
  requireGo();
  say('building compose-check');
  buildInto(target, 'compose-check', (dir) =>
    // The collector's flags: built after it (as npm test does), it takes the standard
    // library from Go's build cache, 10 s instead of 50 s cold.
    run('go', ['build', ...GO_BUILD_FLAGS, '-o', join(dir, 'compose-check'), '.'], {
      cwd: COMPOSE_CHECK,
    }),
  );
  return binary;
}

function validate() {
  const collector = collectorBinary();
  run(collector, ['validate', '--config', join(ROOT, 'otel-collector.yaml')], { cwd: ROOT });
  say('otel-collector.yaml: valid for the collector of collector/manifest.yaml');
  // The agent → gateway topology (docs/topology.md): a gateway is otel-collector.yaml
  // with gateway.yaml merged over it.
  const topology = join(ROOT, 'collector', 'topology');
  run(collector, ['validate', '--config', join(topology, 'agent.yaml')], { cwd: ROOT });
  run(
    collector,
    [
      'validate',
      '--config',
      join(ROOT, 'otel-collector.yaml'),
      '--config',
      join(topology, 'gateway.yaml'),
    ],
    { cwd: ROOT },
  );
  say('collector/topology/agent.yaml, and gateway.yaml over otel-collector.yaml: valid');
  const project = JSON.parse(
    run(composeCheckBinary(), [join(ROOT, 'docker-compose.yml')], { cwd: ROOT }),
  );
  say(`docker-compose.yml: valid (services: ${Object.keys(project.services).sort().join(', ')})`);
}

const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const commands = { collector: collectorBinary, 'compose-check': composeCheckBinary, validate };
  const names = process.argv.slice(2);
  if (names.length === 0 || names.some((n) => !(n in commands))) {
    process.stderr.write(
      `usage: node scripts/go-tools.mjs ${Object.keys(commands).join('|')} ...\n`,
    );
    process.exit(2);
  }
  try {
    for (const name of names) {
      const out = commands[name]();
      if (typeof out === 'string') process.stdout.write(`${out}\n`);
    }
  } catch (error) {
    process.stderr.write(`go-tools: ${error.message}\n`);
    process.exit(1);
  }
}
