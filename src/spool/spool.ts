/**
 * The durable spool: batches of encoded records in segment files on disk,
 * for a collector that is down longer than memory can hold, and for the
 * next start of a process that ended (or crashed) with records unsent.
 *
 * ```
 *   folder/
 *     4242x1764624000000.lock              one per live process; touched every 5 s
 *     4242x1764624000000-000001.seg        finished segments, oldest first
 *     4242x1764624000000-000001.seg.ack    how many of its frames were delivered
 *     4242x1764624000000-000002.open       the segment being written
 *
 *   append ──▶ [open segment] ──rotate (rename)──▶ [segments …] ──next/done──▶ sent, then deleted
 *                                                   ▲ read index ──────────────▶ write index ▲
 * ```
 *
 * A segment holds the batches of one resource and scope ({@link LogsEnvelope})
 * as checksummed frames (`segment-format.ts`). Frames are sent in order, one
 * at a time; after each is acknowledged, the count of delivered frames is
 * written to the `.ack` file, so that a crash between a send and its `.ack`
 * sends that one batch twice, never more. A segment is deleted when all its
 * frames are delivered.
 *
 * Several processes may share the folder. Each writes only files named after
 * itself (pid and start time). A process takes over the segments of one that
 * is gone (its pid is not alive, or its lock was not touched for 30 s) by
 * renaming them into its own name: a rename succeeds for one process only,
 * so no segment ever has two senders.
 *
 * Nothing here throws. A disk error is reported (`onError`) and the spool
 * stops taking batches for a while; what it already holds stays readable.
 */
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LogsEnvelope } from '../otlp/encode-logs.js';
import { encodeFrameHeader, encodeHeader, scanSegment, type FrameIndex } from './segment-format.js';
import { PROCESS_SPOOLS as PROCESS_SPOOLS_KEY } from '../symbols.js';

/** How often a live process touches its lock file. */
const HEARTBEAT_MS = 5_000;
/** A lock not touched for this long belongs to a process that is gone. */
const LOCK_STALE_MS = 30_000;
/** How often the folder is looked at for the segments of processes that are gone. */
const RESCAN_MS = 30_000;
/** After a disk error, the spool takes no batch for this long. */
const ERROR_PAUSE_MS = 60_000;

const SEGMENT_NAME = /^(\d+)x(\d+)-(\d+)\.(seg|open)$/;

/**
 * What a lock file holds: the host and pid namespace of the process that
 * wrote it. Its pid can be checked only from the same ones.
 */
const LOCK_CONTENT = `${hostname()}\n${pidNamespace()}\n`;

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid'); // Linux: `pid:[4026531836]`
  } catch {
    return ''; // elsewhere, the host name says it
  }
}

/** What the spools of this process share, across every copy of this package in it (its CommonJS and ESM builds). */
interface ProcessSpools {
  /**
   * The owners of the spools open in this process: an owner with this
   * process's pid that is not here is an earlier process that had the same
   * pid (a container's pid 1 after a restart), and is gone.
   */
  readonly live: Set<string>;
  /** The start time of the last spool opened, in ms: each owner name is unique. */
  lastStart: number;
}

const PROCESS_SPOOLS = ((globalThis as Record<symbol, unknown>)[PROCESS_SPOOLS_KEY] ??= {
  live: new Set<string>(),
  lastStart: 0,
}) as ProcessSpools;
const LOCK_NAME = /^(\d+x\d+)\.lock$/;

/** Settings of a spool. */
export interface SpoolSettings {
  readonly dir: string;
  readonly maxBytes: number;
  /** A segment is finished (renamed) when it reaches this size. */
  readonly segmentBytes: number;
  /** `fdatasync` after every frame: survives a power loss, not only a crash, and costs a disk flush per batch. */
  readonly fsync: boolean;
}

/** What the spool reports to the pipeline's accounting and warnings. */
export interface SpoolHooks {
  /** Records of earlier processes found in the folder, now this spool's to send. */
  onRecovered(records: number, bytes: number): void;
  /** Records deleted unsent to keep the spool under its size: dropped. */
  onEvicted(records: number, bytes: number): void;
  /** Frames (of earlier processes) that could not be read: their records are lost. */
  onCorrupt(frames: number): void;
  /** A disk operation failed; `what` says which. */
  onError(what: string, error: unknown): void;
}

/** A frame to send, read back from its segment. */
export interface SpoolFrame {
  readonly envelope: LogsEnvelope;
  readonly payload: Buffer;
  readonly records: number;
  /** @internal */
  readonly segment: Segment;
}

/** One segment file and where its reading stands. */
class Segment {
  readonly frames: FrameIndex[] = [];
  /** Frames delivered (or dropped for good), from the start. */
  delivered = 0;
  /** Frames whose records are counted in the spool's totals: from `delivered` on. */
  bytes = 0;
  records = 0;
  /** The file descriptor to append to, while the segment is open. */
  writeFd: number | undefined;
  /** The end of the file, while appending. */
  size = 0;
  ackFd: number | undefined;

  constructor(
    public path: string,
    readonly envelope: LogsEnvelope,
    readonly envelopeBytes: Buffer,
  ) {}

  get pending(): number {
    return this.frames.length - this.delivered;
  }
}

export class Spool {
  readonly #settings: SpoolSettings;
  readonly #hooks: SpoolHooks;
  /** This spool's name in the folder: `<pid>x<start>`, unique even for two spools of one process. */
  readonly #owner = `${process.pid}x${uniqueStart()}`;
  #sequence = 0;
  /** Every segment this spool sends from, oldest first. */
  #segments: Segment[] = [];
  /** The segment being written, by envelope bytes. */
  readonly #open = new Map<string, Segment>();
  #records = 0;
  #bytes = 0;
  #pausedUntil = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #rescan: NodeJS.Timeout | undefined;
  /** The frame being sent, if any: the spool sends one at a time. */
  #sending: SpoolFrame | undefined;
  #closed = false;

  constructor(settings: SpoolSettings, hooks: SpoolHooks) {
    this.#settings = settings;
    this.#hooks = hooks;
  }

  /** Records held, not counting the frame being sent. */
  get records(): number {
    return this.#records;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get dir(): string {
    return this.#settings.dir;
  }

  /** Whether a frame is being sent now. */
  get sending(): boolean {
    return this.#sending !== undefined;
  }

  /**
   * Makes the folder, takes a lock, and takes over what processes that are
   * gone left in it. Returns false (having reported why) when the folder
   * cannot be used.
   */
  open(): boolean {
    try {
      mkdirSync(this.#settings.dir, { recursive: true });
      writeFileSync(this.#lockPath(), LOCK_CONTENT, { flag: 'wx' });
    } catch (error) {
      this.#hooks.onError('open the spool folder', error);
      return false;
    }
    PROCESS_SPOOLS.live.add(this.#owner);
    this.#heartbeat = setInterval(() => this.#touch(), HEARTBEAT_MS);
    this.#heartbeat.unref();
    this.claim();
    this.#rescan = setInterval(() => this.claim(), RESCAN_MS);
    this.#rescan.unref();
    return true;
  }

  #lockPath(owner = this.#owner): string {
    return join(this.#settings.dir, `${owner}.lock`);
  }

  #touch(): void {
    try {
      const now = new Date();
      utimesSync(this.#lockPath(), now, now);
    } catch {
      // Deleted from outside: write it again, so that no other process takes our segments.
      try {
        writeFileSync(this.#lockPath(), LOCK_CONTENT);
      } catch (error) {
        this.#hooks.onError('touch the spool lock', error);
      }
    }
  }

  /**
   * Whether the process `owner` (`<pid>x<start>`) is alive. A live process
   * always has its lock, touched every 5 s: no lock, or one not touched for
   * 30 s, means gone. A pid says more only when the lock was written in this
   * host and pid namespace (two containers on one volume may both be pid 1).
   */
  #alive(owner: string): boolean {
    if (owner === this.#owner) return true;
    let lock: { content: string; mtimeMs: number };
    try {
      const path = this.#lockPath(owner);
      lock = { content: readFileSync(path, 'latin1'), mtimeMs: statSync(path).mtimeMs };
    } catch {
      return false;
    }
    if (lock.content === LOCK_CONTENT) {
      const pid = Number(owner.split('x')[0]);
      // Our own pid, not one of our spools: an earlier process with the same pid (a restarted container).
      if (pid === process.pid) return PROCESS_SPOOLS.live.has(owner);
      try {
        process.kill(pid, 0);
      } catch (error) {
        if ((error as { code?: string }).code === 'ESRCH') return false;
      }
    }
    return Date.now() - lock.mtimeMs < LOCK_STALE_MS;
  }

  /**
   * Takes over the segments of processes that are gone, oldest first: each
   * is renamed into this process's name (one process wins a rename), read,
   * and queued; its frames already delivered are skipped.
   */
  claim(): void {
    if (this.#closed) return;
    let names: string[];
    try {
      names = readdirSync(this.#settings.dir);
    } catch (error) {
      this.#hooks.onError('read the spool folder', error);
      return;
    }
    const orphans = names
      .map((name) => ({ name, match: SEGMENT_NAME.exec(name) }))
      .filter((f) => f.match !== null && `${f.match[1]}x${f.match[2]}` !== this.#owner)
      .sort(
        (a, b) =>
          Number(a.match![2]) - Number(b.match![2]) || Number(a.match![3]) - Number(b.match![3]),
      );
    const owners = new Map<string, boolean>();
    let corrupt = 0;
    for (const { name, match } of orphans) {
      const owner = `${match![1]}x${match![2]}`;
      if (!owners.has(owner)) owners.set(owner, this.#alive(owner));
      if (owners.get(owner)) continue;
      const from = join(this.#settings.dir, name);
      const to = this.#nextPath('seg');
      try {
        renameSync(from, to);
      } catch {
        continue; // another process took it first, or it is gone
      }
      corrupt += this.#adopt(to, from);
    }
    // Said once for all the segments taken over now.
    if (corrupt > 0) this.#hooks.onCorrupt(corrupt);
    // The locks of processes that are gone, with no segments left: else one more per process ended.
    for (const name of names) {
      const owner = LOCK_NAME.exec(name)?.[1];
      if (owner !== undefined && owner !== this.#owner && !owners.has(owner)) {
        owners.set(owner, this.#alive(owner));
      }
    }
    for (const [owner, alive] of owners) {
      if (alive) continue;
      try {
        unlinkSync(this.#lockPath(owner));
      } catch {
        // gone already
      }
    }
  }

  /**
   * Reads a segment taken over from `formerPath`, and queues what is left to
   * send. Returns how many damaged frames it skipped (a damaged header: one).
   */
  #adopt(path: string, formerPath: string): number {
    let delivered = 0;
    // A crash while a segment was finished may leave its ack under the name it had while open.
    for (const ack of [`${formerPath}.ack`, `${formerPath.replace(/\.seg$/, '.open')}.ack`]) {
      try {
        const count = readFileSync(ack);
        if (count.length >= 4) delivered = Math.max(delivered, count.readUInt32LE(0));
        unlinkSync(ack);
      } catch {
        // No ack file: nothing of it was delivered.
      }
    }
    let file: Buffer;
    try {
      file = readFileSync(path);
    } catch (error) {
      this.#hooks.onError('read a spool segment', error);
      return 0;
    }
    const scanned = scanSegment(file);
    const envelope = scanned.envelope && LogsEnvelope.fromBytes(Buffer.from(scanned.envelope));
    if (envelope === undefined) {
      // Empty, or not ours after all: set aside, never read again.
      this.#remove(path, file.length === 0 ? undefined : `${path}.bad`);
      return file.length > 0 ? 1 : 0;
    }
    const segment = new Segment(path, envelope, Buffer.from(scanned.envelope!));
    segment.frames.push(...scanned.frames);
    segment.delivered = Math.min(delivered, segment.frames.length);
    for (let i = segment.delivered; i < segment.frames.length; i++) {
      segment.records += segment.frames[i]!.records;
      segment.bytes += segment.frames[i]!.length;
    }
    if (segment.pending === 0) {
      this.#remove(path);
      return scanned.corrupt;
    }
    if (segment.delivered > 0) this.#writeAck(segment);
    this.#segments.push(segment);
    this.#records += segment.records;
    this.#bytes += segment.bytes;
    this.#hooks.onRecovered(segment.records, segment.bytes);
    return scanned.corrupt;
  }

  #nextPath(kind: 'seg' | 'open'): string {
    const sequence = String(++this.#sequence).padStart(6, '0');
    return join(this.#settings.dir, `${this.#owner}-${sequence}.${kind}`);
  }

  /** Whether the spool takes batches now (not closed, not paused after a disk error). */
  get writable(): boolean {
    return !this.#closed && Date.now() >= this.#pausedUntil;
  }

  /**
   * Writes a batch at the end of the spool. Returns false, writing nothing,
   * when the spool does not take batches now (a disk error) or cannot make
   * room; to make room it deletes its oldest segments, reported as evicted.
   */
  append(envelope: LogsEnvelope, payload: Buffer, records: number): boolean {
    if (!this.writable) return false;
    const size = 16 + payload.length;
    if (!this.#makeRoom(size)) return false;
    const envelopeBytes = envelope.toBytes();
    const key = envelopeBytes.toString('latin1');
    let segment = this.#open.get(key);
    try {
      if (segment !== undefined && segment.size + size > this.#settings.segmentBytes) {
        this.#finish(segment);
        segment = undefined;
      }
      if (segment === undefined) {
        const path = this.#nextPath('open');
        const header = encodeHeader(envelopeBytes);
        const fd = openSync(path, 'wx');
        writeSync(fd, header);
        segment = new Segment(path, envelope, envelopeBytes);
        segment.writeFd = fd;
        segment.size = header.length;
        this.#open.set(key, segment);
        this.#segments.push(segment);
      }
      const head = encodeFrameHeader(records, payload);
      writeFull(segment.writeFd!, [head, payload]);
      if (this.#settings.fsync) fdatasyncSync(segment.writeFd!);
    } catch (error) {
      this.#pausedUntil = Date.now() + ERROR_PAUSE_MS;
      this.#hooks.onError('write to the spool', error);
      if (segment !== undefined) this.#abandonWrite(segment);
      return false;
    }
    segment.frames.push({ offset: segment.size + 16, length: payload.length, records });
    segment.size += size;
    segment.records += records;
    segment.bytes += payload.length;
    this.#records += records;
    this.#bytes += payload.length;
    return true;
  }

  /** A segment that failed a write is finished as it is: its frames so far stay readable. */
  #abandonWrite(segment: Segment): void {
    this.#forgetOpen(segment);
    try {
      // A frame half-written by the failed write is not in the index; a reader stops there.
      if (segment.writeFd !== undefined) closeSync(segment.writeFd);
    } catch {
      // already closed
    }
    segment.writeFd = undefined;
    if (segment.pending === 0) this.#drop(segment);
  }

  /** `segment` is no longer the one its envelope's batches are appended to. */
  #forgetOpen(segment: Segment): void {
    const key = segment.envelopeBytes.toString('latin1');
    if (this.#open.get(key) === segment) this.#open.delete(key);
  }

  /**
   * Deletes the oldest segments until `size` more bytes fit; false when they
   * cannot. The frame being sent is still on disk, and counts.
   */
  #makeRoom(size: number): boolean {
    const sending = this.#sending?.payload.length ?? 0;
    while (this.#bytes + sending + size > this.#settings.maxBytes) {
      const oldest = this.#segments.find((s) => s !== this.#sending?.segment && s.pending > 0);
      if (oldest === undefined) return false;
      this.#evict(oldest);
    }
    return true;
  }

  /** Deletes `segment` with what it still holds, counted as dropped (`spool_full`). */
  #evict(segment: Segment): void {
    this.#hooks.onEvicted(segment.records, segment.bytes);
    this.#records -= segment.records;
    this.#bytes -= segment.bytes;
    segment.delivered = segment.frames.length;
    segment.records = 0;
    segment.bytes = 0;
    this.#drop(segment);
  }

  /** Renames a full open segment to a finished one. */
  #finish(segment: Segment): void {
    if (segment.writeFd !== undefined) {
      closeSync(segment.writeFd);
      segment.writeFd = undefined;
    }
    this.#forgetOpen(segment);
    const finished = segment.path.replace(/\.open$/, '.seg');
    renameSync(segment.path, finished);
    if (segment.ackFd !== undefined) renameSync(`${segment.path}.ack`, `${finished}.ack`);
    segment.path = finished;
  }

  /** The oldest frame not delivered, read from its file; `undefined` when there is none or one is out. */
  next(): SpoolFrame | undefined {
    if (this.#sending !== undefined || this.#closed) return undefined;
    for (;;) {
      const segment = this.#segments.find((s) => s.pending > 0);
      if (segment === undefined) return undefined;
      const index = segment.frames[segment.delivered]!;
      const payload = Buffer.allocUnsafe(index.length);
      try {
        const fd = openSync(segment.path, 'r');
        try {
          if (readFull(fd, payload, index.offset) !== index.length) throw new Error('short read');
        } finally {
          closeSync(fd);
        }
      } catch (error) {
        // The file went away or cannot be read: its records cannot be sent.
        this.#hooks.onError('read a spool segment', error);
        this.#evict(segment);
        continue;
      }
      this.#records -= index.records;
      this.#bytes -= index.length;
      segment.records -= index.records;
      segment.bytes -= index.length;
      this.#sending = { envelope: segment.envelope, payload, records: index.records, segment };
      return this.#sending;
    }
  }

  /** The frame `next()` gave was delivered, or dropped for good: it is not sent again. */
  done(frame: SpoolFrame): void {
    if (this.#sending !== frame) return;
    this.#sending = undefined;
    const segment = frame.segment;
    segment.delivered++;
    // All of it delivered: the file goes, the open one too (the next batch starts a new one).
    if (segment.pending === 0) {
      this.#drop(segment);
      return;
    }
    this.#writeAck(segment);
  }

  /** The frame `next()` gave was not delivered this time: it stays first, and its records are held again. */
  release(frame: SpoolFrame): void {
    if (this.#sending !== frame) return;
    this.#sending = undefined;
    frame.segment.records += frame.records;
    frame.segment.bytes += frame.payload.length;
    this.#records += frame.records;
    this.#bytes += frame.payload.length;
  }

  #writeAck(segment: Segment): void {
    try {
      segment.ackFd ??= openSync(`${segment.path}.ack`, 'w');
      const count = Buffer.allocUnsafe(4);
      count.writeUInt32LE(segment.delivered, 0);
      writeSync(segment.ackFd, count, 0, 4, 0);
    } catch (error) {
      this.#hooks.onError('write a spool ack', error);
    }
  }

  /** Deletes a segment's files and forgets it. */
  #drop(segment: Segment): void {
    for (const fd of [segment.writeFd, segment.ackFd]) {
      try {
        if (fd !== undefined) closeSync(fd);
      } catch {
        // already closed
      }
    }
    segment.writeFd = undefined;
    segment.ackFd = undefined;
    this.#forgetOpen(segment);
    this.#segments = this.#segments.filter((s) => s !== segment);
    this.#remove(segment.path);
    this.#remove(`${segment.path}.ack`);
  }

  /** Deletes (or, with `to`, renames) a file; a file already gone is fine. */
  #remove(path: string, to?: string): void {
    try {
      if (to === undefined) unlinkSync(path);
      else renameSync(path, to);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') {
        this.#hooks.onError('delete a spool file', error);
      }
    }
  }

  /**
   * Stops: finishes the open segments, gives up the lock, and leaves what is
   * unsent for the next start. A frame being sent stays unsent. Synchronous.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    PROCESS_SPOOLS.live.delete(this.#owner);
    clearInterval(this.#heartbeat);
    clearInterval(this.#rescan);
    if (this.#sending !== undefined) this.release(this.#sending);
    for (const segment of [...this.#open.values()]) {
      try {
        if (segment.pending === 0) this.#drop(segment);
        else this.#finish(segment);
      } catch (error) {
        this.#hooks.onError('finish a spool segment', error);
      }
    }
    for (const segment of this.#segments) {
      try {
        if (segment.ackFd !== undefined) closeSync(segment.ackFd);
      } catch {
        // already closed
      }
      segment.ackFd = undefined;
    }
    this.#remove(this.#lockPath());
  }
}

/** The start time in milliseconds, one more than the last one when two spools start in the same one. */
function uniqueStart(): number {
  PROCESS_SPOOLS.lastStart = Math.max(Date.now(), PROCESS_SPOOLS.lastStart + 1);
  return PROCESS_SPOOLS.lastStart;
}

/** Writes every byte of `pieces` at the end of `fd`. */
function writeFull(fd: number, pieces: readonly Buffer[]): void {
  for (const piece of pieces) {
    let written = 0;
    while (written < piece.length) written += writeSync(fd, piece, written);
  }
}

/** Reads `buffer.length` bytes at `position`; returns how many it got. */
function readFull(fd: number, buffer: Buffer, position: number): number {
  let read = 0;
  while (read < buffer.length) {
    const n = readSync(fd, buffer, read, buffer.length - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return read;
}
