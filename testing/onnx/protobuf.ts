/**
 * A minimal protocol-buffers wire-format encoder: just what the ONNX messages need
 * (varints, 64-bit integers, fixed32/fixed64 scalars, length-delimited bytes, strings and
 * nested messages). Field order is the order of the calls, so output is deterministic.
 *
 * @module
 */

/** Protobuf wire types. */
export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  fixed32: 5,
} as const;

const textEncoder = new TextEncoder();

/** Accumulates the bytes of one protobuf message. */
export class ProtoWriter {
  #chunks: Uint8Array[] = [];
  #scratch: number[] = [];
  #length = 0;

  /** Number of bytes written so far. */
  get length(): number {
    return this.#length;
  }

  #flushScratch(): void {
    if (this.#scratch.length > 0) {
      const bytes = Uint8Array.from(this.#scratch);
      this.#chunks.push(bytes);
      this.#scratch = [];
    }
  }

  #pushByte(b: number): void {
    this.#scratch.push(b & 0xff);
    this.#length += 1;
  }

  #pushBytes(bytes: Uint8Array): void {
    this.#flushScratch();
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  /** Writes an unsigned varint (a non-negative safe integer or any bigint, as two's complement 64-bit). */
  rawVarint(value: number | bigint): void {
    let v: bigint;
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(`varint: ${value} is not a safe integer`);
      }
      if (value >= 0 && value < 0x80) {
        this.#pushByte(value);
        return;
      }
      v = BigInt(value);
    } else {
      v = value;
    }
    // Negative values are encoded as their 64-bit two's complement (10 bytes), as protobuf does for int64.
    v = BigInt.asUintN(64, v);
    while (v >= 0x80n) {
      this.#pushByte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#pushByte(Number(v));
  }

  /** Writes a field key (field number and wire type). */
  tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** Writes an int32/int64/enum/bool field as a varint. */
  int(field: number, value: number | bigint): void {
    this.tag(field, WireType.varint);
    this.rawVarint(value);
  }

  /** Writes a `float` field (fixed32, little-endian IEEE single). */
  float(field: number, value: number): void {
    this.tag(field, WireType.fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#pushBytes(b);
  }

  /** Writes a `double` field (fixed64, little-endian IEEE double). */
  double(field: number, value: number): void {
    this.tag(field, WireType.fixed64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.#pushBytes(b);
  }

  /** Writes a length-delimited `bytes` field. */
  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WireType.lengthDelimited);
    this.rawVarint(value.length);
    this.#pushBytes(value);
  }

  /** Writes a UTF-8 `string` field. */
  string(field: number, value: string): void {
    this.bytes(field, textEncoder.encode(value));
  }

  /** Writes an embedded message field from another writer's bytes. */
  message(field: number, body: ProtoWriter | Uint8Array): void {
    this.bytes(field, body instanceof ProtoWriter ? body.finish() : body);
  }

  /** Writes a packed repeated varint field (int32/int64/enum). Nothing is written for an empty list. */
  packedInts(field: number, values: readonly (number | bigint)[]): void {
    if (values.length === 0) return;
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    this.message(field, inner);
  }

  /** Writes a packed repeated `float` field. Nothing is written for an empty list. */
  packedFloats(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    this.bytes(field, b);
  }

  /** Returns the message's bytes. */
  finish(): Uint8Array {
    this.#flushScratch();
    const out = new Uint8Array(this.#length);
    let off = 0;
    for (const c of this.#chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}
