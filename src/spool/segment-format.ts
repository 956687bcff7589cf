/**
 * The bytes of a spool segment file:
 *
 * ```
 *   header: "OTWSPOOL" │ version u16 │ envelope length u32 │ envelope │ crc32 u32 (of all before it)
 *   frame:  magic u32 │ records u32 │ payload length u32 │ crc32 u32 (records, length, payload) │ payload
 *   frame:  ...
 * ```
 *
 * All integers little-endian. The envelope is the encoded resource and scope
 * of the segment's records ({@link LogsEnvelope.parts}); a frame's payload is
 * one batch exactly as the pipeline sends it (concatenated
 * `ScopeLogs.log_records` fields). The checksum is CRC-32 (`zlib.crc32`).
 *
 * Reading never throws: a truncated last frame ends the segment, a frame
 * whose checksum fails is counted and skipped, and the reader looks for the
 * next frame's magic number, so that every intact frame after a bad one is
 * still recovered.
 */
import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC = Buffer.from('OTWSPOOL', 'latin1');
export const FORMAT_VERSION = 1;
/** "OTWF" read as a little-endian u32. */
const FRAME_MAGIC = 0x4657544f;
export const FRAME_HEADER_BYTES = 16;
/** A frame larger than this is not believed: its length field must be damaged. */
const MAX_FRAME_BYTES = 1 << 30;

/** The segment header for `envelope` (the encoded resource and scope). */
export function encodeHeader(envelope: Buffer): Buffer {
  const header = Buffer.allocUnsafe(SEGMENT_MAGIC.length + 2 + 4 + envelope.length + 4);
  SEGMENT_MAGIC.copy(header, 0);
  let pos = SEGMENT_MAGIC.length;
  header.writeUInt16LE(FORMAT_VERSION, pos);
  pos += 2;
  header.writeUInt32LE(envelope.length, pos);
  pos += 4;
  envelope.copy(header, pos);
  pos += envelope.length;
  header.writeUInt32LE(crc32(header.subarray(0, pos)), pos);
  return header;
}

/** The 16 bytes before a frame's payload. */
export function encodeFrameHeader(records: number, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  head.writeUInt32LE(FRAME_MAGIC, 0);
  head.writeUInt32LE(records, 4);
  head.writeUInt32LE(payload.length, 8);
  head.writeUInt32LE(crc32(payload, crc32(head.subarray(4, 12))), 12);
  return head;
}

/** A frame found in a segment. */
export interface FrameIndex {
  /** Where its payload starts in the file. */
  readonly offset: number;
  readonly length: number;
  readonly records: number;
}

/** What a segment file holds, as far as it can be read. */
export interface ScannedSegment {
  /** The envelope of the header; `undefined` when the file is not a segment (foreign, empty, damaged header). */
  readonly envelope: Buffer | undefined;
  /** The intact frames, in file order. */
  readonly frames: FrameIndex[];
  /** Frames whose checksum failed, or stretches of bytes that were not a frame. */
  readonly corrupt: number;
  /** Bytes at the end that do not make a whole frame (a write cut short). */
  readonly truncated: number;
}

/** Reads a segment's header and every frame it can trust. Never throws. */
export function scanSegment(file: Buffer): ScannedSegment {
  const envelope = readHeader(file);
  if (envelope === undefined) return { envelope, frames: [], corrupt: 0, truncated: 0 };
  const frames: FrameIndex[] = [];
  let corrupt = 0;
  let truncated = 0;
  let pos = SEGMENT_MAGIC.length + 2 + 4 + envelope.length + 4;
  let lost = false;
  while (pos < file.length) {
    if (file.length - pos < FRAME_HEADER_BYTES) {
      truncated = file.length - pos;
      break;
    }
    const frame = readFrame(file, pos);
    if (frame === 'short') {
      truncated = file.length - pos;
      break;
    }
    if (frame === undefined) {
      // Not a frame here: count the damage once, then look for the next magic number.
      if (!lost) corrupt++;
      lost = true;
      pos = nextMagic(file, pos + 1);
      continue;
    }
    lost = false;
    frames.push(frame);
    pos = frame.offset + frame.length;
  }
  return { envelope, frames, corrupt, truncated };
}

function readHeader(file: Buffer): Buffer | undefined {
  const fixed = SEGMENT_MAGIC.length + 2 + 4;
  if (file.length < fixed + 4 || !file.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) {
    return undefined;
  }
  if (file.readUInt16LE(SEGMENT_MAGIC.length) !== FORMAT_VERSION) return undefined;
  const length = file.readUInt32LE(SEGMENT_MAGIC.length + 2);
  const end = fixed + length;
  if (end + 4 > file.length) return undefined;
  if (file.readUInt32LE(end) !== crc32(file.subarray(0, end))) return undefined;
  return file.subarray(fixed, end);
}

/** The frame at `pos`; 'short' when the file ends inside it; `undefined` when it is not one. */
function readFrame(file: Buffer, pos: number): FrameIndex | 'short' | undefined {
  if (file.readUInt32LE(pos) !== FRAME_MAGIC) return undefined;
  const records = file.readUInt32LE(pos + 4);
  const length = file.readUInt32LE(pos + 8);
  if (length > MAX_FRAME_BYTES) return undefined;
  const offset = pos + FRAME_HEADER_BYTES;
  if (offset + length > file.length) {
    // Either the last write was cut short, or the length is damaged: only a
    // later frame magic can tell them apart.
    return nextMagic(file, pos + 1) >= file.length ? 'short' : undefined;
  }
  const crc = crc32(
    file.subarray(offset, offset + length),
    crc32(file.subarray(pos + 4, pos + 12)),
  );
  if (crc !== file.readUInt32LE(pos + 12)) return undefined;
  return { offset, length, records };
}

function nextMagic(file: Buffer, from: number): number {
  const magic = Buffer.allocUnsafe(4);
  magic.writeUInt32LE(FRAME_MAGIC, 0);
  const found = file.indexOf(magic, from);
  return found === -1 ? file.length : found;
}
