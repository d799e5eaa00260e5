import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

const require = createRequire(import.meta.url);

/** The MIT-licensed group photos shipped in @vladmandic/face-api's demo/ (1920×1280, 22 faces in all). */
export const demoDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
export const demoPhoto = (i: number) => readFileSync(join(demoDir, `sample${i}.jpg`));
export const DEMO_FACES = [3, 3, 3, 4, 5, 4];

/** A 640×480 JPEG with one face: cut around the first face of sample2 and scaled, as a phone selfie would be. */
export async function oneFace640(): Promise<Buffer> {
  return sharp(demoPhoto(2)).extract({ left: 1240, top: 40, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer();
}

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
