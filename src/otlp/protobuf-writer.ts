/**
 * A protobuf wire-format writer into one growable Buffer, for the OTLP
 * messages this package encodes itself. Its shape follows the upstream
 * `otlp-transformer` writer (one buffer, a length placeholder back-patched
 * after the message, shifted only when the length needs more bytes), with
 * two differences that matter on the log-call path:
 *
 * - strings are measured and written in one pass (an ASCII loop for short
 *   ones, `Buffer#write` for the rest), never through an intermediate
 *   `Uint8Array` from `TextEncoder`;
 * - the buffer is reused: {@link ProtobufWriter.reset} keeps its memory, so
 *   encoding a record allocates nothing.
 */

/** Wire types. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

const TWO_32 = 4_294_967_296;

/** Bytes a varint of `value` (0 to 2^53) takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 4;
  let v = Math.floor(value / 0x10000000);
  while (v > 0) {
    size++;
    v = Math.floor(v / 0x80);
  }
  return size;
}

const HEX: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) table[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    table[65 + i] = 10 + i;
    table[97 + i] = 10 + i;
  }
  return table;
})();

export class ProtobufWriter {
  /** The bytes written so far are `buf[0, pos)`. */
  buf: Buffer;
  pos = 0;

  constructor(initialBytes = 16_384) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Forgets what was written; keeps the memory. */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of what was written, in a Buffer of its own exact size. */
  copy(start = 0, end = this.pos): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    this.buf.copy(out, 0, start, end);
    return out;
  }

  ensure(bytes: number): void {
    if (this.pos + bytes > this.buf.length) this.grow(bytes);
  }

  private grow(bytes: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A field key; every field number used here is below 16, so one byte. */
  tag(field: number, wire: number): void {
    this.ensure(1);
    this.buf[this.pos++] = (field << 3) | wire;
  }

  /** A non-negative integer up to 2^53 as a varint. */
  uint(value: number): void {
    if (value < TWO_32) {
      this.ensure(5);
      const buf = this.buf;
      let pos = this.pos;
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
      this.pos = pos;
    } else {
      this.varint64(value >>> 0, Math.floor(value / TWO_32) >>> 0);
    }
  }

  /** An int64 varint: negative values in two's complement, ten bytes, as protobuf wants. */
  int64(value: number): void {
    if (value >= 0) {
      this.uint(value);
      return;
    }
    const abs = -value;
    let low = ~(abs >>> 0) >>> 0;
    let high = ~(Math.floor(abs / TWO_32) >>> 0) >>> 0;
    low = (low + 1) >>> 0;
    if (low === 0) high = (high + 1) >>> 0;
    this.varint64(low, high);
  }

  /** A 64-bit varint from its low and high 32 bits. */
  private varint64(low: number, high: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (high > 0 || low > 0x7f) {
      buf[pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[pos++] = low;
    this.pos = pos;
  }

  fixed32(value: number): void {
    this.ensure(4);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = value;
    buf[pos++] = value >>> 8;
    buf[pos++] = value >>> 16;
    buf[pos++] = value >>> 24;
    this.pos = pos;
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = low;
    buf[pos++] = low >>> 8;
    buf[pos++] = low >>> 16;
    buf[pos++] = low >>> 24;
    buf[pos++] = high;
    buf[pos++] = high >>> 8;
    buf[pos++] = high >>> 16;
    buf[pos++] = high >>> 24;
    this.pos = pos;
  }

  /**
   * A time as fixed64 nanoseconds since the epoch, from whole seconds and
   * nanoseconds (an OpenTelemetry `HrTime`), exactly, without BigInt.
   */
  fixed64Time(seconds: number, nanos: number): void {
    // seconds * 1e9 + nanos does not fit a double exactly: split seconds at 2^16.
    const lowPart = (seconds & 0xffff) * 1e9;
    const highPart = Math.floor(seconds / 0x10000) * 1e9;
    const low = (lowPart >>> 0) + (highPart % 0x10000) * 0x10000 + nanos;
    const high =
      Math.floor(lowPart / TWO_32) + Math.floor(highPart / 0x10000) + Math.floor(low / TWO_32);
    this.fixed64(low >>> 0, high >>> 0);
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** A length-delimited UTF-8 string (without its tag). */
  string(value: string): void {
    const length = value.length;
    if (length < 43) {
      // Even at three bytes a character, the length fits one byte.
      this.ensure(1 + length * 3);
      const buf = this.buf;
      const start = this.pos + 1;
      let pos = start;
      for (let i = 0; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          pos = start + buf.write(value, start, 'utf8');
          break;
        }
        buf[pos++] = c;
      }
      buf[this.pos] = pos - start;
      this.pos = pos;
      return;
    }
    const most = length * 3;
    const reserved = varintSize(most);
    this.ensure(reserved + most);
    const written = this.buf.write(value, this.pos + reserved, 'utf8');
    this.finishLength(this.pos, reserved, written);
  }

  /** Length-delimited bytes (without their tag). */
  bytes(value: Uint8Array): void {
    this.uint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /**
   * Length-delimited bytes from a hex string (trace and span ids), without
   * their tag. Returns false, writing nothing, when `hex` is not `bytes`
   * bytes of hex.
   */
  hexBytes(hex: string, bytes: number): boolean {
    if (hex.length !== bytes * 2) return false;
    this.ensure(1 + bytes);
    const buf = this.buf;
    const start = this.pos;
    buf[start] = bytes;
    for (let i = 0; i < bytes; i++) {
      const a = hex.charCodeAt(2 * i);
      const b = hex.charCodeAt(2 * i + 1);
      const high = a < 128 ? HEX[a]! : -1;
      const low = b < 128 ? HEX[b]! : -1;
      if (high < 0 || low < 0) return false;
      buf[start + 1 + i] = (high << 4) | low;
    }
    this.pos = start + 1 + bytes;
    return true;
  }

  /**
   * Starts a length-delimited message: reserves `reserved` bytes for its
   * length and returns the position to give to {@link ProtobufWriter.end}.
   * Reserve what the message will most likely need (1 below 128 bytes).
   */
  begin(reserved = 1): number {
    this.ensure(reserved);
    const start = this.pos;
    this.pos += reserved;
    return start;
  }

  /** Ends the message begun at `start` with `reserved` bytes: writes its length. */
  end(start: number, reserved = 1): void {
    const length = this.pos - start - reserved;
    // Most attribute and value messages: under 128 bytes, in the one byte reserved.
    if (reserved === 1 && length < 0x80) this.buf[start] = length;
    else this.finishLength(start, reserved, length);
  }

  /**
   * Writes `length` as a varint at `start`, where `reserved` bytes were kept
   * for it before `length` bytes of content, moving the content when the
   * varint needs more or fewer bytes.
   */
  private finishLength(start: number, reserved: number, length: number): void {
    const needed = varintSize(length);
    const content = start + reserved;
    if (needed !== reserved) {
      this.ensure(needed - reserved);
      this.buf.copyWithin(start + needed, content, content + length);
    }
    const buf = this.buf;
    let pos = start;
    let v = length;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos] = v;
    this.pos = start + needed + length;
  }
}
