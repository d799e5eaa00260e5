/**
 * A small BMP decoder: libvips (and so sharp) has no BMP loader, and the contract lists BMP.
 * Covers what cameras and Windows tools write: BITMAPINFOHEADER and later, 1/4/8-bit palettes,
 * 16/24/32-bit BI_RGB and BI_BITFIELDS, bottom-up and top-down. RLE-compressed files are refused.
 */
export interface BmpPixels {
  width: number;
  height: number;
  /** RGB, row-major, 3 bytes a pixel. */
  data: Buffer;
}

export class BmpError extends Error {}

export function isBmp(bytes: Buffer): boolean {
  return bytes.length >= 26 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/** Reads only the header: width and height, to check the pixel limit before allocating. */
export function bmpSize(bytes: Buffer): { width: number; height: number } {
  if (bytes.length < 26) throw new BmpError('truncated BMP header');
  const headerSize = bytes.readUInt32LE(14);
  if (headerSize === 12) return { width: bytes.readUInt16LE(18), height: bytes.readUInt16LE(20) };
  if (bytes.length < 54) throw new BmpError('truncated BMP header');
  return { width: Math.abs(bytes.readInt32LE(18)), height: Math.abs(bytes.readInt32LE(22)) };
}

function maskShift(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

export function decodeBmp(bytes: Buffer): BmpPixels {
  if (!isBmp(bytes) || bytes.length < 54) throw new BmpError('not a BMP file');
  const dataOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  if (headerSize < 40) throw new BmpError('OS/2 BMP headers are not supported');
  const width = bytes.readInt32LE(18);
  const rawHeight = bytes.readInt32LE(22);
  const bpp = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height <= 0) throw new BmpError('invalid BMP dimensions');
  if (compression !== 0 && compression !== 3 && compression !== 6) throw new BmpError('compressed BMP is not supported');

  let masks = [0, 0, 0];
  if (compression === 3 || compression === 6) {
    const at = headerSize >= 52 ? 54 : 14 + headerSize;
    if (bytes.length < at + 12) throw new BmpError('truncated BMP masks');
    masks = [bytes.readUInt32LE(at), bytes.readUInt32LE(at + 4), bytes.readUInt32LE(at + 8)];
  } else if (bpp === 16) {
    masks = [0x7c00, 0x03e0, 0x001f];
  } else if (bpp === 32) {
    masks = [0x00ff0000, 0x0000ff00, 0x000000ff];
  }

  let palette: Buffer | null = null;
  if (bpp <= 8) {
    const colours = bytes.readUInt32LE(46) || 1 << bpp;
    const start = 14 + headerSize;
    if (bytes.length < start + colours * 4) throw new BmpError('truncated BMP palette');
    palette = bytes.subarray(start, start + colours * 4);
  } else if (![16, 24, 32].includes(bpp)) {
    throw new BmpError(`unsupported BMP bit depth ${bpp}`);
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) throw new BmpError('truncated BMP pixel data');
  const out = Buffer.allocUnsafe(width * height * 3);
  const channelMasks = masks.map(maskShift);

  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      if (palette) {
        const bit = x * bpp;
        const byte = bytes[row + (bit >> 3)];
        const index = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        const p = Math.min(index, palette.length / 4 - 1) * 4;
        out[o] = palette[p + 2];
        out[o + 1] = palette[p + 1];
        out[o + 2] = palette[p];
      } else if (bpp === 24) {
        const p = row + x * 3;
        out[o] = bytes[p + 2];
        out[o + 1] = bytes[p + 1];
        out[o + 2] = bytes[p];
      } else {
        const v = bpp === 16 ? bytes.readUInt16LE(row + x * 2) : bytes.readUInt32LE(row + x * 4);
        for (let c = 0; c < 3; c++) {
          const { shift, max } = channelMasks[c];
          out[o + c] = max === 0 ? 0 : Math.round((((v & masks[c]) >>> shift) * 255) / max);
        }
      }
    }
  }
  return { width, height, data: out };
}
