import { resourceFromAttributes } from '@opentelemetry/resources';
import { expect } from 'chai';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogsEnvelope } from '../../src/otlp/encode-logs.js';
import { scanSegment } from '../../src/spool/segment-format.js';
import { Spool, type SpoolHooks } from '../../src/spool/spool.js';

const ENVELOPE = LogsEnvelope.of(resourceFromAttributes({ 'service.name': 'spool-test' }), {
  name: 'scope',
  version: '1',
});

/** A payload of `size` bytes whose content says which batch it is. */
function payload(n: number, size = 100): Buffer {
  return Buffer.alloc(size, n % 251);
}

interface Heard {
  recovered: number;
  evicted: number;
  corrupt: number;
  errors: string[];
}

function spoolIn(dir: string, settings: Partial<{ maxBytes: number; segmentBytes: number }> = {}) {
  const heard: Heard = { recovered: 0, evicted: 0, corrupt: 0, errors: [] };
  const hooks: SpoolHooks = {
    onRecovered: (records) => void (heard.recovered += records),
    onEvicted: (records) => void (heard.evicted += records),
    onCorrupt: (frames) => void (heard.corrupt += frames),
    onError: (what, error) => void heard.errors.push(`${what}: ${String(error)}`),
  };
  const spool = new Spool(
    {
      dir,
      maxBytes: settings.maxBytes ?? 1 << 20,
      segmentBytes: settings.segmentBytes ?? 1 << 20,
      fsync: false,
    },
    hooks,
  );
  return { spool, heard };
}

/** Sends every frame (done) and returns their first payload bytes, in order. */
function drainAll(spool: Spool): number[] {
  const out: number[] = [];
  for (let frame = spool.next(); frame !== undefined; frame = spool.next()) {
    out.push(frame.payload[0]!);
    spool.done(frame);
  }
  return out;
}

/** A process that is gone: its spool files, under a pid that does not run. */
function orphanFiles(dir: string, from: string): void {
  const dead = `999999x${Date.now() - 1000}`;
  for (const name of readdirSync(from)) {
    const renamed = name.replace(/^\d+x\d+/, dead);
    writeFileSync(join(dir, renamed), readFileSync(join(from, name)));
  }
}

describe('spool: segments on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'otel-winston-spool-'));
  });
  afterEach(() => {
    if (existsSync(dir)) chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends its frames oldest first, one at a time, and deletes each segment when all of it is delivered', () => {
    const { spool } = spoolIn(dir, { segmentBytes: 1000 });
    expect(spool.open()).to.equal(true);
    for (let n = 0; n < 30; n++) expect(spool.append(ENVELOPE, payload(n), 1)).to.equal(true);
    expect(spool.records).to.equal(30);
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg')).length).to.be.greaterThan(1);
    const first = spool.next()!;
    expect(spool.next(), 'one at a time').to.equal(undefined);
    spool.release(first);
    expect(drainAll(spool)).to.deep.equal(Array.from({ length: 30 }, (_, n) => n));
    expect(spool.records).to.equal(0);
    spool.close();
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('a process that ended leaves its segments; the next one takes them over and skips what was delivered', () => {
    const first = spoolIn(dir);
    first.spool.open();
    for (let n = 0; n < 10; n++) first.spool.append(ENVELOPE, payload(n), 2);
    for (let n = 0; n < 4; n++) first.spool.done(first.spool.next()!);
    // Ended without close(): as after a SIGKILL. Its pid is this test's: rename it to a dead one.
    const crashed = mkdtempSync(join(tmpdir(), 'otel-winston-crashed-'));
    try {
      for (const f of readdirSync(dir)) writeFileSync(join(crashed, f), readFileSync(join(dir, f)));
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      orphanFiles(dir, crashed);
    } finally {
      rmSync(crashed, { recursive: true, force: true });
    }
    first.spool.close(); // its files are gone: this only stops its timers
    const next = spoolIn(dir);
    next.spool.open();
    expect(next.heard.recovered).to.equal(12);
    expect(drainAll(next.spool)).to.deep.equal([4, 5, 6, 7, 8, 9]);
    next.spool.close();
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('a crash between renaming a finished segment and its ack: the ack is found under the old name', () => {
    const from = mkdtempSync(join(tmpdir(), 'otel-winston-crashed-'));
    try {
      const first = spoolIn(from);
      first.spool.open();
      for (let n = 0; n < 6; n++) first.spool.append(ENVELOPE, payload(n), 1);
      for (let n = 0; n < 2; n++) first.spool.done(first.spool.next()!);
      orphanFiles(dir, from);
      first.spool.close();
    } finally {
      rmSync(from, { recursive: true, force: true });
    }
    const open = readdirSync(dir).find((f) => f.endsWith('.open'))!;
    expect(readdirSync(dir)).to.include(`${open}.ack`);
    renameSync(join(dir, open), join(dir, open.replace(/\.open$/, '.seg')));
    const next = spoolIn(dir);
    next.spool.open();
    expect(next.heard.recovered).to.equal(4);
    expect(drainAll(next.spool)).to.deep.equal([2, 3, 4, 5]);
    next.spool.close();
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it("never takes a live process's segments, and two spools share one folder", () => {
    const a = spoolIn(dir);
    const b = spoolIn(dir);
    a.spool.open();
    for (let n = 0; n < 5; n++) a.spool.append(ENVELOPE, payload(n), 1);
    b.spool.open();
    b.spool.claim();
    expect(b.heard.recovered).to.equal(0);
    expect(b.spool.records).to.equal(0);
    expect(a.spool.records).to.equal(5);
    a.spool.close();
    b.spool.close();
  });

  describe('whether the owner of segments is gone', () => {
    /** What this host's processes write in their locks: the host name and pid namespace. */
    const HERE = `${hostname()}\n${readlinkSync('/proc/self/ns/pid')}\n`;
    const FRESH = 0;
    const STALE = 60_000;

    /** Three records in a segment of `owner`, with its lock holding `content`, last touched `age` ms ago. */
    function segmentsOf(owner: string, content: string | undefined, age: number): void {
      const from = mkdtempSync(join(tmpdir(), 'otel-winston-spool-src-'));
      const a = spoolIn(from);
      a.spool.open();
      a.spool.append(ENVELOPE, payload(1), 3);
      a.spool.close();
      for (const name of readdirSync(from)) {
        writeFileSync(join(dir, name.replace(/^\d+x\d+/, owner)), readFileSync(join(from, name)));
      }
      rmSync(from, { recursive: true });
      if (content === undefined) return;
      writeFileSync(join(dir, `${owner}.lock`), content);
      const at = new Date(Date.now() - age);
      utimesSync(join(dir, `${owner}.lock`), at, at);
    }

    /** How many records a new spool on the folder takes over at its start. */
    function takenAtStart(): number {
      const b = spoolIn(dir);
      b.spool.open();
      const taken = b.heard.recovered;
      b.spool.close();
      return taken;
    }

    const cases: Array<[string, string, string | undefined, number, boolean]> = [
      [
        'its lock is gone (it ended, or was never started)',
        `${process.ppid}x1000`,
        undefined,
        FRESH,
        true,
      ],
      ['its pid does not run on this host', `999999x1000`, HERE, FRESH, true],
      ['its pid runs here and its lock is fresh', `${process.ppid}x1000`, HERE, FRESH, false],
      [
        'its pid runs here but its lock is stale: a reused pid',
        `${process.ppid}x1000`,
        HERE,
        STALE,
        true,
      ],
      [
        'it had our pid, and is not one of our spools: a restarted container',
        `${process.pid}x1000`,
        HERE,
        FRESH,
        true,
      ],
      [
        'its lock is from another host or pid namespace and fresh, whatever its pid',
        '999999x1000',
        'elsewhere\n',
        FRESH,
        false,
      ],
      ['its lock is from another host and stale', '999999x1000', 'elsewhere\n', STALE, true],
    ];
    for (const [what, owner, content, age, gone] of cases) {
      it(`${gone ? 'taken over' : 'left alone'}: ${what}`, () => {
        segmentsOf(owner, content, age);
        expect(takenAtStart()).to.equal(gone ? 3 : 0);
        expect(existsSync(join(dir, `${owner}.lock`)), 'its lock').to.equal(
          !gone && content !== undefined,
        );
      });
    }
  });

  describe('damage', () => {
    /** Segments of a process that is gone, with `damage` done to its one segment file. */
    function damaged(damage: (path: string) => void): Heard & { sent: number[] } {
      const writer = spoolIn(dir);
      writer.spool.open();
      for (let n = 0; n < 8; n++) writer.spool.append(ENVELOPE, payload(n, 200), 1);
      const crashed = mkdtempSync(join(tmpdir(), 'otel-winston-crashed-'));
      try {
        for (const f of readdirSync(dir))
          writeFileSync(join(crashed, f), readFileSync(join(dir, f)));
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir);
        orphanFiles(dir, crashed);
      } finally {
        rmSync(crashed, { recursive: true, force: true });
      }
      damage(
        join(
          dir,
          readdirSync(dir).find((f) => f.endsWith('.open'))!,
        ),
      );
      const reader = spoolIn(dir);
      reader.spool.open();
      const sent = drainAll(reader.spool);
      reader.spool.close();
      return { ...reader.heard, sent };
    }

    it('a truncated last frame: every whole frame is recovered, the cut one is not', () => {
      const heard = damaged((path) => truncateSync(path, statSync(path).size - 50));
      expect(heard.sent).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
      expect(heard.corrupt).to.equal(0);
    });

    it('a flipped bit in a frame: that frame is counted and skipped, every other one recovered', () => {
      const heard = damaged((path) => {
        const file = readFileSync(path);
        const frames = scanSegment(file).frames;
        file[frames[3]!.offset + 17]! ^= 0x10;
        writeFileSync(path, file);
      });
      expect(heard.sent).to.deep.equal([0, 1, 2, 4, 5, 6, 7]);
      expect(heard.corrupt).to.equal(1);
    });

    it("a flipped bit in a frame's length: the frames after it are still found", () => {
      const heard = damaged((path) => {
        const file = readFileSync(path);
        const frames = scanSegment(file).frames;
        file[frames[2]!.offset - 16 + 10]! ^= 0x40; // the length field
        writeFileSync(path, file);
      });
      expect(heard.sent).to.deep.equal([0, 1, 3, 4, 5, 6, 7]);
      expect(heard.corrupt).to.equal(1);
    });

    it('a damaged header: the file is set aside, not read again, and nothing throws', () => {
      const heard = damaged((path) => {
        const file = readFileSync(path);
        file[3]! ^= 0xff;
        writeFileSync(path, file);
      });
      expect(heard.sent).to.deep.equal([]);
      expect(heard.corrupt).to.equal(1);
      expect(readdirSync(dir).some((f) => f.endsWith('.bad'))).to.equal(true);
    });

    it('a zero-length segment and foreign files in the folder: ignored, and left alone when foreign', () => {
      writeFileSync(join(dir, `999999x${Date.now()}-000001.seg`), Buffer.alloc(0));
      writeFileSync(join(dir, 'notes.txt'), 'not a segment');
      writeFileSync(join(dir, '12x34-000001.seg.txt'), 'not one either');
      const { spool, heard } = spoolIn(dir);
      expect(spool.open()).to.equal(true);
      expect(heard).to.deep.include({ recovered: 0, corrupt: 0 });
      expect(readdirSync(dir).sort()).to.include.members(['notes.txt', '12x34-000001.seg.txt']);
      expect(
        readdirSync(dir).some((f) => /-000001\.seg$/.test(f) && f.startsWith('999999')),
      ).to.equal(false);
      spool.close();
    });
  });

  describe('limits and disk errors', () => {
    it('over maxBytes, its oldest segments are deleted unsent, and counted', () => {
      const { spool, heard } = spoolIn(dir, { maxBytes: 2000, segmentBytes: 600 });
      spool.open();
      for (let n = 0; n < 40; n++) expect(spool.append(ENVELOPE, payload(n), 1)).to.equal(true);
      expect(spool.bytes).to.be.at.most(2000);
      expect(heard.evicted).to.be.greaterThan(0);
      expect(heard.evicted + spool.records).to.equal(40);
      const sent = drainAll(spool);
      expect(sent.at(-1)).to.equal(39); // the newest are kept
      spool.close();
    });

    it('the frame being sent is still on disk: it counts against maxBytes, and the files stay under it', () => {
      // One frame per segment: eviction leaves no slack that would hide the frame in flight.
      const { spool, heard } = spoolIn(dir, { maxBytes: 2050, segmentBytes: 100 });
      spool.open();
      for (let n = 0; n < 5; n++) spool.append(ENVELOPE, payload(n), 1);
      const sending = spool.next()!;
      for (let n = 5; n < 40; n++) spool.append(ENVELOPE, payload(n), 1);
      expect(spool.bytes + sending.payload.length).to.be.at.most(2050);
      // The batches in the files (none is delivered yet): within maxBytes.
      const onDisk = readdirSync(dir)
        .filter((f) => /\.(seg|open)$/.test(f))
        .flatMap((f) => scanSegment(readFileSync(join(dir, f))).frames)
        .reduce((sum, frame) => sum + frame.length, 0);
      expect(onDisk).to.be.at.most(2050);
      spool.release(sending);
      expect(spool.bytes).to.be.at.most(2050);
      expect(heard.evicted + spool.records).to.equal(40);
      spool.close();
    });

    it('a folder it cannot write to: open() reports it and returns false; nothing throws', function () {
      if (process.getuid?.() === 0) {
        // root writes anywhere: use a path under a file instead, which no one can make.
        writeFileSync(join(dir, 'a-file'), '');
        const { spool, heard } = spoolIn(join(dir, 'a-file', 'spool'));
        expect(spool.open()).to.equal(false);
        expect(heard.errors[0]).to.match(/open the spool folder: Error: (ENOTDIR|EEXIST)/);
        return;
      }
      chmodSync(dir, 0o555);
      const { spool, heard } = spoolIn(dir);
      expect(spool.open()).to.equal(false);
      expect(heard.errors[0]).to.match(/EACCES/);
    });

    it('a write that fails: append() returns false, reports it once, and takes no batch for a while', () => {
      const { spool, heard } = spoolIn(dir, { segmentBytes: 1000 });
      spool.open();
      expect(spool.append(ENVELOPE, payload(1, 2000), 1)).to.equal(true);
      // The folder goes away under it (a disk unmounted, a cleanup job): no new segment can be made.
      rmSync(dir, { recursive: true, force: true });
      expect(spool.append(ENVELOPE, payload(2, 2000), 1)).to.equal(false);
      expect(spool.writable).to.equal(false);
      expect(spool.append(ENVELOPE, payload(3), 1)).to.equal(false);
      expect(heard.errors).to.have.length(1);
      expect(spool.records).to.equal(1);
      mkdirSync(dir);
      spool.close();
    });
  });
});
