// Checksums for the files TensorBoard reads: CRC-32C (Castagnoli), masked as TFRecord frames use it,
// and the plain CRC-32 (IEEE) of PNG chunks. Table-driven, one byte at a time (fast enough for logs).

/** The 256-entry table of a reflected CRC-32 polynomial. */
function makeTable(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

const CASTAGNOLI = makeTable(0x82f63b78); // reversed 0x1EDC6F41
const IEEE = makeTable(0xedb88320); // reversed 0x04C11DB7

function update(table: Uint32Array, crc: number, bytes: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C of the bytes (crc32c("123456789") = 0xE3069283); pass `crc` to continue a running checksum. */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  return update(CASTAGNOLI, crc, bytes);
}

/** CRC-32 (IEEE 802.3, zlib's and PNG's; crc32("123456789") = 0xCBF43926); pass `crc` to continue. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  return update(IEEE, crc, bytes);
}

/**
 * The masked CRC-32C that TFRecord frames store: rotate right by 15 bits and add 0xa282ead8, so that
 * a CRC of data that itself holds CRCs does not degenerate. NOTE: the add wraps modulo 2³².
 */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/** The inverse of maskCrc. */
export function unmaskCrc(masked: number): number {
  const rot = (masked - 0xa282ead8) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

/** maskCrc(crc32c(bytes)). */
export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc(crc32c(bytes));
}
