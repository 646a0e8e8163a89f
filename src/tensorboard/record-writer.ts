// TFRecord framing and an append-only record file: each record is its length (u64 little-endian),
// the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data. Records are
// buffered in memory, appended with one write, and fsync'ed on flush() and close().
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { maskedCrc32c } from "./crc32c.js";

/** One framed record: 8 + 4 + data.length + 4 bytes. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const dv = new DataView(out.buffer);
  // NOTE: the length is a u64; records here are far below 2³², so the high word is 0.
  dv.setUint32(0, data.length, true);
  dv.setUint32(4, Math.floor(data.length / 2 ** 32), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  dv.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** Appends framed records to one file. The file is created (with its folder) on the first write. */
export class RecordWriter {
  private fd: number | null = null;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private closed = false;

  constructor(readonly path: string) {}

  /** Queues one record (framed now, written on the next flush). */
  write(data: Uint8Array): void {
    if (this.closed) throw new Error(`RecordWriter: ${this.path} is closed; create a new writer to write more`);
    const rec = frameRecord(data);
    this.pending.push(rec);
    this.pendingBytes += rec.length;
  }

  /** Bytes queued but not yet written. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Appends the queued records to the file; with `sync` (the default) also fsyncs it. */
  flush(sync = true): void {
    if (this.pending.length === 0 && !(sync && this.fd !== null)) return;
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, "a");
    }
    if (this.pending.length > 0) {
      const all = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      let off = 0;
      while (off < all.length) off += writeSync(this.fd, all, off, all.length - off);
    }
    if (sync) fsyncSync(this.fd);
  }

  /** Flushes and closes the file; further writes throw. Closing twice does nothing. */
  close(): void {
    if (this.closed) return;
    this.flush(true);
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
