// PNG encoding for SummaryWriter.addImage (8-bit gray, gray+alpha, RGB or RGBA, no interlace), and
// the conversion of a CHW/HWC/HW tensor to 8-bit pixels with PyTorch's rules (floats ×255, clipped).
import { deflateSync } from "node:zlib";
import { type Tensor, ValueError } from "../tensor/index.js";
import { crc32 } from "./crc32c.js";

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** PNG colour type by channel count: gray 0, gray+alpha 4, RGB 2, RGBA 6. */
const COLOR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length); // PNG integers are big-endian
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes 8-bit pixels in HWC order (channels 1–4) as a PNG file. */
export function encodePng(pixels: Uint8Array, height: number, width: number, channels: number): Uint8Array {
  const color = COLOR_TYPE[channels];
  if (color === undefined) throw new ValueError(`encodePng: images have 1, 2, 3 or 4 channels, got ${channels}`);
  if (pixels.length !== height * width * channels) throw new ValueError(`encodePng: ${pixels.length} bytes for a ${height}×${width}×${channels} image (expected ${height * width * channels})`);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, color, 0, 0, 0], 8); // bit depth 8, colour type, deflate, adaptive filtering, no interlace
  // Each row is preceded by its filter type; 0 (none) keeps the encoder simple.
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** How an image tensor's dimensions are ordered (PyTorch's `dataformats`). */
export type DataFormats = "CHW" | "HWC" | "HW";

/** 8-bit HWC pixels from an image tensor: uint8 as it is, other dtypes ×255 then clipped to [0, 255] and truncated (PyTorch's rule). */
export function imagePixels(where: string, img: Tensor, dataformats: DataFormats = "CHW"): { pixels: Uint8Array; height: number; width: number; channels: number } {
  const rank = dataformats.length;
  if (img.shape.length !== rank)
    throw new ValueError(`${where}: a ${dataformats} image has ${rank} dimensions, got shape [${img.shape.join(",")}]; pass dataformats 'CHW', 'HWC' or 'HW'`);
  const [height, width, channels] =
    dataformats === "HW" ? [img.shape[0], img.shape[1], 1] : dataformats === "HWC" ? [img.shape[0], img.shape[1], img.shape[2]] : [img.shape[1], img.shape[2], img.shape[0]];
  if (!COLOR_TYPE[channels]) throw new ValueError(`${where}: an image has 1, 3 or 4 channels (or 2: gray + alpha), got ${channels} from shape [${img.shape.join(",")}] as ${dataformats}`);
  const isByte = img.dtype === "uint8";
  const src = (isByte || img.dtype === "float32" || img.dtype === "float64" ? img : img.to("float32")).dataSync() as ArrayLike<number>;
  const pixels = new Uint8Array(height * width * channels);
  const scale = isByte ? 1 : 255;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) {
        const i = dataformats === "CHW" ? (c * height + y) * width + x : (y * width + x) * channels + c;
        const v = src[i] * scale;
        // NOTE: NaN becomes 0; Uint8Array assignment truncates like numpy's astype(uint8).
        pixels[(y * width + x) * channels + c] = v > 255 ? 255 : v > 0 ? v : 0;
      }
  return { pixels, height, width, channels };
}
