import sharp from 'sharp';

export { demoDir, demoPhoto, oneFace640 } from '../../scripts/lib/sample-images.js';

/** Faces per demo photo (sample1…6), counted by eye. */
export const DEMO_FACES = [3, 3, 3, 4, 5, 4];

/** A photo without faces: smooth colour gradients and noise. */
export async function noFaceImage(): Promise<Buffer> {
  const w = 320, h = 240;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 3;
    px[o] = (x * 255) / w;
    px[o + 1] = (y * 255) / h;
    px[o + 2] = ((x * y) % 97) + 80;
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
}
