import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';

/**
 * A throwaway PKI in a temporary folder, made with the `openssl` CLI: real
 * PEM files, as a user points `OTEL_EXPORTER_OTLP_CERTIFICATE` and the
 * client variables at. EC P-256 keys, valid for a day.
 */
export interface TestPki {
  readonly dir: string;
  /** The CA that signed the server's and the client's certificates. */
  readonly caCert: string;
  /** The server's certificate, for `IP:127.0.0.1`, and its key. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate the CA signed, and its key. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** Another CA, which nobody trusts and which signed nothing the server holds. */
  readonly otherCaCert: string;
  /** A client certificate the other CA signed, and its key: the server refuses it. */
  readonly otherClientCert: string;
  readonly otherClientKey: string;
  /** The contents of one of the files above. */
  read(path: string): Buffer;
  /** Deletes the folder. */
  remove(): void;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Makes a {@link TestPki}; throws when `openssl` is missing or fails. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'otel-winston-tls-'));
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const makeCa = (name: string): void => {
    openssl(
      ...['req', '-x509', ...EC_KEY, '-keyout', at(`${name}.key`), '-out', at(`${name}.crt`)],
      ...['-days', '1', '-subj', `/CN=otel-winston test ${name}`],
      ...['-addext', 'basicConstraints=critical,CA:TRUE'],
      ...['-addext', 'keyUsage=critical,keyCertSign'],
    );
  };
  let serial = 1;
  const makeLeaf = (name: string, ca: string, extensions: string): void => {
    writeFileSync(at(`${name}.ext`), extensions);
    openssl(
      ...['req', '-new', ...EC_KEY, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`)],
      ...['-subj', `/CN=otel-winston test ${name}`],
    );
    openssl(
      ...['x509', '-req', '-in', at(`${name}.csr`), '-out', at(`${name}.crt`), '-days', '1'],
      ...['-CA', at(`${ca}.crt`), '-CAkey', at(`${ca}.key`), '-set_serial', String(++serial)],
      ...['-extfile', at(`${name}.ext`)],
    );
  };
  try {
    makeCa('ca');
    makeCa('other-ca');
    makeLeaf('server', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    makeLeaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
    makeLeaf('other-client', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    otherCaCert: at('other-ca.crt'),
    otherClientCert: at('other-client.crt'),
    otherClientKey: at('other-client.key'),
    read: (path) => readFileSync(path),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A TLS server in front of a plaintext receiver, as a collector with mutual
 * TLS is: it presents the server certificate, requires a client certificate
 * the CA signed (`requestCert`, `rejectUnauthorized`), and pipes the bytes of
 * each connection it accepts to the receiver.
 */
export interface TlsFront {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** Connections whose handshake succeeded: the client was verified. */
  readonly accepted: number;
  /** Why each refused or failed handshake ended. */
  readonly refused: readonly Error[];
  close(): Promise<void>;
}

/** Starts a {@link TlsFront} on a free loopback port, in front of `target` (`http://host:port`). */
export async function startTlsFront(target: string, pki: TestPki): Promise<TlsFront> {
  const { hostname, port } = new URL(target);
  const refused: Error[] = [];
  const open = new Set<Socket>();
  let accepted = 0;
  const track = (socket: Socket): void => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  const server = createServer(
    {
      ca: pki.read(pki.caCert),
      cert: pki.read(pki.serverCert),
      key: pki.read(pki.serverKey),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket: TLSSocket) => {
      accepted++;
      const upstream = connect(Number(port), hostname);
      track(upstream);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    },
  );
  server.on('connection', track);
  server.on('tlsClientError', (error: Error) => refused.push(error));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `https://127.0.0.1:${address.port}`,
    get accepted() {
      return accepted;
    },
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
