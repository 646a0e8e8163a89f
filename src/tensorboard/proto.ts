// A minimal protocol-buffers *encoder* (wire format only) for the few TensorBoard messages Ingot
// writes; messages.ts lays out the fields. Hand-written rather than protobufjs: the messages are
// fixed and few, and a schema library would add a dependency plus .proto files to keep in step.

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** Builds one message; fields are written in the order the methods are called (callers use field order). */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private buf = new Uint8Array(64);
  private pos = 0;
  private readonly scratch = new DataView(new ArrayBuffer(8));

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  private rawVarint(v: number | bigint): void {
    if (typeof v === "number" && v >= 0 && Number.isSafeInteger(v)) {
      // NOTE: no bit operators here: they would truncate values above 2³¹.
      while (v >= 0x80) {
        this.byte((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      this.byte(v);
      return;
    }
    // Negative int32/int64 values are sign-extended to 64 bits (10 bytes), as protobuf does.
    let b = BigInt.asUintN(64, BigInt(v));
    while (b >= 0x80n) {
      this.byte(Number(b & 0x7fn) | 0x80);
      b >>= 7n;
    }
    this.byte(Number(b));
  }

  private key(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  private raw(bytes: Uint8Array): void {
    // Large payloads (PNG images) are kept by reference rather than copied into the buffer.
    if (bytes.length > 256) {
      this.chunks.push(this.buf.slice(0, this.pos), bytes);
      this.pos = 0;
      return;
    }
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** int32/int64/uint64/bool/enum field. */
  varint(field: number, v: number | bigint | boolean): this {
    this.key(field, VARINT);
    this.rawVarint(typeof v === "boolean" ? (v ? 1 : 0) : v);
    return this;
  }

  /** double field (8 bytes, little-endian). */
  double(field: number, v: number): this {
    this.key(field, I64);
    this.scratch.setFloat64(0, v, true);
    this.raw(new Uint8Array(this.scratch.buffer.slice(0, 8)));
    return this;
  }

  /** float field (4 bytes, little-endian; the value is rounded to float32). */
  float(field: number, v: number): this {
    this.key(field, I32);
    this.scratch.setFloat32(0, v, true);
    this.raw(new Uint8Array(this.scratch.buffer.slice(0, 4)));
    return this;
  }

  /** bytes field. */
  bytes(field: number, data: Uint8Array): this {
    this.key(field, LEN);
    this.rawVarint(data.length);
    this.raw(data);
    return this;
  }

  /** string field (UTF-8). */
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** Embedded message field. */
  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  /** packed repeated double field (omitted when empty, as protobuf does). */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    const data = new Uint8Array(values.length * 8);
    const dv = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat64(i * 8, values[i], true);
    return this.bytes(field, data);
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const tail = this.buf.subarray(0, this.pos);
    if (this.chunks.length === 0) return tail.slice();
    const total = this.chunks.reduce((n, c) => n + c.length, 0) + tail.length;
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of [...this.chunks, tail]) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
