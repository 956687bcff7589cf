import { startTail, TAIL_DEFAULTS } from './tail.js';

const { port: PORT, host: HOST } = TAIL_DEFAULTS;

const USAGE = `Usage: otel-winston tail [--port ${PORT}] [--host ${HOST}] [--no-color]

Receives OTLP/HTTP (protobuf or JSON) and prints each trace as a tree of
spans with their log records nested under them. Point an app at it with
OTEL_EXPORTER_OTLP_ENDPOINT=http://${HOST}:${PORT} and run it under
node --require otel-winston/register.
`;

/** The `otel-winston` command. Returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'tail') {
    process.stderr.write(
      command === undefined || command === '--help' || command === '-h'
        ? USAGE
        : `Unknown command ${JSON.stringify(command)}\n\n${USAGE}`,
    );
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2;
  }
  let port: number = PORT;
  let host: string = HOST;
  let color: boolean | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--port') port = Number(rest[++i]);
    else if (arg === '--host') host = String(rest[++i]);
    else if (arg === '--no-color') color = false;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else {
      process.stderr.write(`Unknown option ${JSON.stringify(arg)}\n\n${USAGE}`);
      return 2;
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(
      `Expected --port to be an integer from 0 to 65535, got ${JSON.stringify(String(port))}\n`,
    );
    return 2;
  }
  const tail = await startTail({ port, host, color });
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
