import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { VERSION } from '../version.js';
import { startTail, TAIL_DEFAULTS } from './tail.js';

const { port: PORT, host: HOST } = TAIL_DEFAULTS;

const USAGE = `Usage: otel-winston tail [--port=${PORT}] [--host=${HOST}] [--allow-remote] [--no-color]
       otel-winston --version | --help

Receives OTLP/HTTP (protobuf or JSON) and prints each trace as a tree of
spans with their log records nested under them: each record's time (UTC),
severity, body, request context, attributes and exception stack. Point an
app at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://${HOST}:${PORT} and run it
under node --require otel-winston/register.

  --port=N         the port to listen on (0: any free one)       default ${PORT}
  --host=ADDRESS   the address to listen on                       default ${HOST}
  --allow-remote   listen on an address other than loopback: the receiver has
                   no authentication, so anyone who reaches it can send to it
  --no-color       no colours (also NO_COLOR=1; FORCE_COLOR=1 forces them)
  --version        print the version
  --help           print this
`;

/** Whether `host` reaches only this machine: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** A usage error: said on stderr with the usage, exit code 2. */
function usageError(message: string): number {
  process.stderr.write(`otel-winston: ${message}\n\n${USAGE}`);
  return 2;
}

/** The `otel-winston` command. Returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'allow-remote': { type: 'boolean' },
        'no-color': { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // parseArgs names the option: "Option '--port <value>' argument missing", "Unknown option '--x'".
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.version === true) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (command === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command !== 'tail') return usageError(`unknown command ${JSON.stringify(command)}`);
  if (rest.length > 0) return usageError(`unexpected argument ${JSON.stringify(rest[0])}`);

  const port = values.port === undefined ? PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? String(PORT)) || port > 65535) {
    return usageError(
      `Expected --port to be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`,
    );
  }
  const host = values.host ?? HOST;
  if (host === '') return usageError('Expected --host to be an address, got ""');
  if (!isLoopback(host) && values['allow-remote'] !== true) {
    return usageError(
      `--host=${host} is not a loopback address: otel-winston tail has no authentication, so ` +
        'anyone who can reach it could send it records. Add --allow-remote if that is what you want.',
    );
  }

  let tail;
  try {
    tail = await startTail({
      port,
      host,
      ...(values['no-color'] === true ? { color: false } : {}),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is in use (a collector, or another tail?); choose another with --port=N`
        : code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this machine`
          : code === 'EACCES'
            ? `no permission to listen on port ${port}`
            : (error as Error).message;
    process.stderr.write(`otel-winston tail: cannot listen on ${host}:${port}: ${why}\n`);
    return 1;
  }
  // Listen for the end before saying we are ready: a signal may follow at once.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stderr.write(`otel-winston tail: receiving OTLP/HTTP on ${tail.url} (Ctrl-C to stop)\n`);
  await stopped;
  await tail.close();
  return 0;
}
