import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

const require = createRequire(import.meta.url);

/** The MIT-licensed group photos shipped in @vladmandic/face-api's demo/ (1920×1280, 22 faces in all). */
export const demoDir = () => join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
export const demoPhotoPath = (i: number) => join(demoDir(), `sample${i}.jpg`);
export const demoPhoto = (i: number) => readFileSync(demoPhotoPath(i));

/** A 640×480 JPEG with one face: cut from sample2 around its rightmost face, as a phone selfie would frame it. */
export function oneFace640(): Promise<Buffer> {
  return sharp(demoPhoto(2)).extract({ left: 1240, top: 40, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer();
}
