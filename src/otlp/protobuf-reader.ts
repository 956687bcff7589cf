/**
 * A minimal protobuf wire-format reader: enough to decode OTLP requests
 * without generated code. Throws `RangeError` on truncated or malformed input.
 */
export class ProtobufReader {
  private pos: number;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const key = this.uint32();
    return { field: key >>> 3, wire: key & 7 };
  }

  /** A varint of up to 64 bits, as a bigint. */
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new RangeError('varint too long');
    }
  }

  /** A varint read as an unsigned 32-bit number (tags, lengths, enums); higher bits are dropped. */
  uint32(): number {
    let result = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const byte = this.buf[this.pos++]!;
      if (shift < 32) result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result >>> 0;
    }
    throw new RangeError('varint too long');
  }

  /** A boolean varint. */
  bool(): boolean {
    return this.uint32() !== 0;
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.varint());
  }

  fixed64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  fixed32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  bytes(): Uint8Array {
    const length = this.uint32();
    this.need(length);
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  string(): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes());
  }

  /**
   * Reads every field to the end of this message: a field with a handler is
   * passed to it (the handler reads the field's value), any other is skipped.
   */
  fields(handlers: { readonly [field: number]: (reader: ProtobufReader) => void }): void {
    while (!this.done) {
      const { field, wire } = this.tag();
      const handler = handlers[field];
      if (handler !== undefined) handler(this);
      else this.skip(wire);
    }
  }

  /** A reader over the next length-delimited field. */
  message(): ProtobufReader {
    const length = this.uint32();
    this.need(length);
    const sub = new ProtobufReader(this.buf, this.pos, this.pos + length);
    this.pos += length;
    return sub;
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.need(8);
        this.pos += 8;
        return;
      case 2: {
        const length = this.uint32();
        this.need(length);
        this.pos += length;
        return;
      }
      case 5:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new RangeError(`unsupported wire type ${wire}`);
    }
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.end) throw new RangeError('truncated message');
  }
}
