import { beforeAll, describe, expect, it } from 'vitest';
import { FaceCapturer, type CapturedFace } from '../../shared/blocks/face-capturer.js';
import { scanRegions } from '../../shared/blocks/face-detector.js';
import { FaceRecognizer } from '../../shared/blocks/face-recognizer.js';
import { FDA_FROM_IBUG, fdaKeypoints } from '../../shared/blocks/landmarks.js';
import { templateDistance } from '../../shared/blocks/matcher.js';
import { resolveConfigObject, type CapturerParams, type RecognizerParams } from '../../shared/config/config-object.js';
import { FaceLandmarkNames } from '../../shared/contract/objects.js';
import { decodeImage } from '../../shared/image/decode.js';
import type { RgbImage } from '../../shared/image/rgb-image.js';
import { DEMO_FACES, demoPhoto, noFaceImage, oneFace640 } from '../support/fixtures.js';

const capturerParams = (over: Record<string, unknown> = {}) =>
  resolveConfigObject('common_capturer_uld_fda.xml', { min_size: 20, ...over }, 'test').params as CapturerParams;
const decode = (b: Buffer) => decodeImage(b, { maxPixels: 40_000_000 });

let capturer: FaceCapturer;
const photos: RgbImage[] = [];
const faces: CapturedFace[][] = [];

beforeAll(async () => {
  capturer = await FaceCapturer.create(capturerParams());
  for (let i = 1; i <= 6; i++) {
    const img = await decode(demoPhoto(i));
    photos.push(img);
    faces.push(await capturer.capture(img));
  }
});

describe('face detector', () => {
  it('finds every face of the six demo group photos (22)', () => {
    expect(faces.map((f) => f.length)).toEqual(DEMO_FACES);
  });

  it('finds nothing in an image without faces', async () => {
    expect(await capturer.capture(await decode(await noFaceImage()))).toEqual([]);
  });

  it('honours min_size and score_threshold', async () => {
    const big = await FaceCapturer.create(capturerParams({ min_size: 240 }));
    const kept = await big.capture(photos[2]);
    expect(kept.length).toBeLessThan(faces[2].length);
    for (const f of kept) expect(Math.min(f.box.x2 - f.box.x1, f.box.y2 - f.box.y1)).toBeGreaterThanOrEqual(240);
    const strict = await FaceCapturer.create(capturerParams({ score_threshold: 0.999 }));
    for (const f of await strict.capture(photos[0])) expect(f.score).toBeGreaterThanOrEqual(0.999);
  });

  it('scans more regions at higher precision levels', () => {
    expect(scanRegions(1920, 1280, 1)).toHaveLength(1);
    expect(scanRegions(1920, 1280, 2)).toHaveLength(1 + 4);
    expect(scanRegions(1920, 1280, 3)).toHaveLength(1 + 4 + 9);
    for (const r of scanRegions(1920, 1280, 3)) {
      expect(r.x + r.w).toBeLessThanOrEqual(1920);
      expect(r.y + r.h).toBeLessThanOrEqual(1280);
    }
  });

  it('level 2 finds small faces that level 1 misses in a downscaled photo', async () => {
    // Shrinking the photo 4× makes its faces ≈55 px: below what one 320×240 pass resolves well.
    const sharp = (await import('sharp')).default;
    const small = await decode(await sharp(demoPhoto(5)).resize(3840 / 2).jpeg().toBuffer());
    const level1 = await (await FaceCapturer.create(capturerParams({ precision_level: 1 }))).capture(small);
    const level3 = await (await FaceCapturer.create(capturerParams({ precision_level: 3 }))).capture(small);
    expect(level3.length).toBeGreaterThanOrEqual(level1.length);
    expect(level3.length).toBeGreaterThanOrEqual(DEMO_FACES[4] - 1);
  });
});

describe('21-point fda fitter', () => {
  const idx = (name: (typeof FaceLandmarkNames)[number]) => FaceLandmarkNames.indexOf(name);

  it('maps each of the 21 names to iBUG points', () => {
    expect(FDA_FROM_IBUG).toHaveLength(21);
  });

  it('puts every point inside its face box grown by 15 %, and each point where its name says', () => {
    let checked = 0;
    for (const face of faces.flat()) {
      const k = fdaKeypoints(face.landmarks);
      const p = (name: (typeof FaceLandmarkNames)[number]) => ({ x: k[3 * idx(name)], y: k[3 * idx(name) + 1] });
      const w = face.box.x2 - face.box.x1, h = face.box.y2 - face.box.y1;
      for (let i = 0; i < 21; i++) {
        expect(k[3 * i]).toBeGreaterThanOrEqual(face.box.x1 - 0.15 * w);
        expect(k[3 * i]).toBeLessThanOrEqual(face.box.x2 + 0.15 * w);
        expect(k[3 * i + 1]).toBeGreaterThanOrEqual(face.box.y1 - 0.15 * h);
        expect(k[3 * i + 1]).toBeLessThanOrEqual(face.box.y2 + 0.15 * h);
      }
      // Left/right are as seen in the image; check them along the face's own horizontal axis.
      const le = p('left_eye'), re = p('right_eye');
      const ax = re.x - le.x, ay = re.y - le.y;
      const along = (q: { x: number; y: number }) => q.x * ax + q.y * ay;
      const across = (q: { x: number; y: number }) => -q.x * ay + q.y * ax; // grows downwards on the face
      expect(along(p('left_eye_left'))).toBeLessThan(along(le));
      expect(along(le)).toBeLessThan(along(p('left_eye_right')));
      expect(along(p('right_eye_left'))).toBeLessThan(along(re));
      expect(along(re)).toBeLessThan(along(p('right_eye_right')));
      expect(along(p('mouth_left'))).toBeLessThan(along(p('mouth_right')));
      expect(along(p('nose_left'))).toBeLessThan(along(p('nose_right')));
      expect(along(p('left_eye_brow_left'))).toBeLessThan(along(p('right_eye_brow_right')));
      // Brows above eyes above nose above mouth above chin.
      const eyes = (across(le) + across(re)) / 2;
      expect((across(p('left_eye_brow_up')) + across(p('right_eye_brow_up'))) / 2).toBeLessThan(eyes);
      expect(eyes).toBeLessThan(across(p('nose')));
      expect(across(p('nose'))).toBeLessThan(across(p('mouth')));
      expect(across(p('mouth'))).toBeLessThan(across(p('chin')));
      checked++;
    }
    expect(checked).toBe(22);
  });

  it('gives head angles in degrees with the documented signs on an upright face', async () => {
    const img = await decode(await oneFace640());
    const [face] = await capturer.capture(img);
    // The woman in this crop looks down and tilts her head so that her image-right eye is higher.
    expect(face.angles.pitch).toBeLessThan(-10);
    expect(face.angles.roll).toBeLessThan(-10);
    expect(Math.abs(face.angles.yaw)).toBeLessThan(30);
  });
});

describe('template extraction and matching', () => {
  it('a face is closer to itself re-encoded than to any other person in the demo photos', async () => {
    const recognizer = await FaceRecognizer.create(resolveConfigObject('method12v50_recognizer.xml', {}, 't').params as RecognizerParams);
    const sharp = (await import('sharp')).default;
    const all = faces.flatMap((fs, i) => fs.map((f) => ({ img: photos[i], face: f, photo: i })));
    const templates = await Promise.all(all.map((a) => recognizer.template(a.img, a.face)));
    // The same photo re-compressed at JPEG quality 40 and re-captured.
    const again = await decode(await sharp(demoPhoto(1)).jpeg({ quality: 40 }).toBuffer());
    const againFaces = await capturer.capture(again);
    const t0 = await recognizer.template(again, againFaces[0]);
    const distances = templates.map((t) => templateDistance(t.vector, t0.vector));
    const nearest = distances.indexOf(Math.min(...distances));
    expect(all[nearest].photo).toBe(0);
    expect(distances[nearest]).toBeLessThan(0.5);
    expect(templates[0].tag).toBe('fr_feature-512.v1');
  });
});
