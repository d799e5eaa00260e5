import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { BodyDetector, letterboxSquare, type DetectedBody } from '../../shared/blocks/body-detector.js';
import { FaceCapturer, type CapturedFace } from '../../shared/blocks/face-capturer.js';
import { resolveConfigObject, type CapturerParams } from '../../shared/config/config-object.js';
import { iou, type Box } from '../../shared/geometry/box.js';
import { decodeImage } from '../../shared/image/decode.js';
import type { RgbImage } from '../../shared/image/rgb-image.js';
import { Modules } from '../../shared/modules/catalogue.js';
import { DEMO_FACES, demoPhoto, noFaceImage } from '../support/fixtures.js';

const decode = (b: Buffer) => decodeImage(b, { maxPixels: 40_000_000 });
/** The shipped defaults (catalogue): centernet, score 0.3, NMS IoU 0.5. */
const DEFAULTS = Modules['body-detector'].variables.parse({});
/** NanoDet's scores run higher than CenterNet's: 0.4 is its operating point on the dev split. */
const NANODET = { score_threshold: 0.4, nms_iou_threshold: 0.4 };

/** A face box lies inside a body box, allowing 10 % of the face's width for loose edges (hair, a raised chin). */
const faceInside = (face: Box, body: Box) => {
  const tol = 0.1 * (face.x2 - face.x1);
  return face.x1 >= body.x1 - tol && face.x2 <= body.x2 + tol && face.y1 >= body.y1 - tol && face.y2 <= body.y2 + tol;
};

let centernet: BodyDetector;
let nanodet: BodyDetector;
const photos: RgbImage[] = [];
const faces: CapturedFace[][] = [];
const bodies: DetectedBody[][] = [];

beforeAll(async () => {
  const capturer = await FaceCapturer.create(resolveConfigObject('common_capturer_uld_fda.xml', { min_size: 20 }, 'test').params as CapturerParams);
  [centernet, nanodet] = await Promise.all([BodyDetector.create('centernet'), BodyDetector.create('nanodet')]);
  for (let i = 1; i <= 6; i++) {
    const img = await decode(demoPhoto(i));
    photos.push(img);
    faces.push(await capturer.capture(img));
    bodies.push(await centernet.detect(img, { ...DEFAULTS, score_threshold: 0.2 }));
  }
});

const atLeast = (list: DetectedBody[], threshold: number) => list.filter((b) => b.score >= threshold);

describe('body detector (centernet, the default)', () => {
  it('ships centernet at score 0.3 and NMS IoU 0.5', () => {
    expect(DEFAULTS).toEqual({ model: 'centernet', score_threshold: 0.3, nms_iou_threshold: 0.5 });
  });

  it('finds a plausible number of people in each demo group photo (every one shows at least 2)', () => {
    const counts = bodies.map((b) => atLeast(b, DEFAULTS.score_threshold).length);
    counts.forEach((n, i) => {
      expect(n).toBeGreaterThanOrEqual(2);
      expect(n).toBeLessThanOrEqual(DEMO_FACES[i] + 1);
    });
    // 22 women in all; two stand so close together that one box may cover both.
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(18);
  });

  it('puts every face the face capturer finds inside a body box, and a face in every body box', () => {
    expect(faces.flat()).toHaveLength(22);
    faces.forEach((fs, i) => {
      const found = atLeast(bodies[i], 0.25);
      for (const f of fs) expect(found.some((b) => faceInside(f.box, b.box))).toBe(true);
      // No body box without a face: the photos show nobody else.
      for (const b of found) expect(fs.some((f) => faceInside(f.box, b.box))).toBe(true);
    });
  });

  it('gives boxes inside the image, most confident first, with scores in 0..1', () => {
    bodies.forEach((list, i) => {
      for (const { box, score } of list) {
        expect(box.x1).toBeGreaterThanOrEqual(0);
        expect(box.y1).toBeGreaterThanOrEqual(0);
        expect(box.x2).toBeLessThanOrEqual(photos[i].width);
        expect(box.y2).toBeLessThanOrEqual(photos[i].height);
        expect(box.x2).toBeGreaterThan(box.x1);
        expect(box.y2).toBeGreaterThan(box.y1);
        expect(score).toBeGreaterThan(0);
        expect(score).toBeLessThanOrEqual(1);
      }
      expect(list.map((b) => b.score)).toEqual([...list.map((b) => b.score)].sort((a, b) => b - a));
    });
  });

  it('honours score_threshold and nms_iou_threshold', async () => {
    // Just above the least confident person found at 0.2: that one must go, the others stay.
    const bar = bodies[0][bodies[0].length - 1].score + 1e-4;
    const strict = await centernet.detect(photos[0], { score_threshold: bar, nms_iou_threshold: 0.5 });
    expect(strict).toHaveLength(bodies[0].length - 1);
    for (const b of strict) expect(b.score).toBeGreaterThanOrEqual(bar);
    // Neighbours in a group photo overlap: a tight NMS keeps fewer of them, and no kept pair overlaps more.
    const loose = await centernet.detect(photos[4], { score_threshold: 0.05, nms_iou_threshold: 0.9 });
    const tight = await centernet.detect(photos[4], { score_threshold: 0.05, nms_iou_threshold: 0.1 });
    expect(tight.length).toBeLessThan(loose.length);
    for (let a = 0; a < tight.length; a++) for (let b = a + 1; b < tight.length; b++) expect(iou(tight[a].box, tight[b].box)).toBeLessThanOrEqual(0.1);
  });

  it('maps boxes back through the letterbox: a mirrored photo gives mirrored boxes', async () => {
    const img = photos[5]; // 1920×1537: padded along x in the square input
    const flipped = await decode(await sharp(demoPhoto(6)).flop().png().toBuffer());
    const mirrored = (await centernet.detect(flipped, DEFAULTS)).map(({ box }) => ({ x1: img.width - box.x2, y1: box.y1, x2: img.width - box.x1, y2: box.y2 }));
    const direct = atLeast(bodies[5], DEFAULTS.score_threshold);
    expect(mirrored.length).toBeGreaterThanOrEqual(direct.length - 1);
    let close = 0;
    for (const m of mirrored) if (direct.some((d) => iou(d.box, m) > 0.8)) close++;
    expect(close).toBeGreaterThanOrEqual(direct.length - 1);
  });

  it('finds nobody in an image without people', async () => {
    const img = await decode(await noFaceImage());
    expect(await centernet.detect(img, DEFAULTS)).toEqual([]);
    expect(await nanodet.detect(img, NANODET)).toEqual([]);
  });
});

describe('body detector (nanodet)', () => {
  it('finds at least 2 people per demo photo, each box holding a face, at its operating point', async () => {
    let facesInside = 0;
    for (let i = 0; i < 6; i++) {
      const found = await nanodet.detect(photos[i], NANODET);
      expect(found.length).toBeGreaterThanOrEqual(2);
      expect(found.length).toBeLessThanOrEqual(DEMO_FACES[i] + 1);
      for (const b of found) {
        expect(b.score).toBeGreaterThanOrEqual(NANODET.score_threshold);
        expect(faces[i].some((f) => faceInside(f.box, b.box))).toBe(true);
      }
      facesInside += faces[i].filter((f) => found.some((b) => faceInside(f.box, b.box))).length;
    }
    expect(facesInside).toBeGreaterThanOrEqual(18);
  });
});

describe('letterbox', () => {
  it('keeps the aspect ratio at the top-left corner and pads the rest with black', async () => {
    const img: RgbImage = { width: 40, height: 20, data: new Uint8Array(40 * 20 * 3).fill(200) };
    const { pixels, sx, sy } = await letterboxSquare(img, 16);
    expect(sx).toBeCloseTo(0.4, 6);
    expect(sy).toBeCloseTo(0.4, 6);
    const at = (x: number, y: number) => pixels[(y * 16 + x) * 3];
    expect(at(0, 0)).toBe(200);
    expect(at(15, 7)).toBe(200);
    expect(at(0, 8)).toBe(0);
    expect(at(15, 15)).toBe(0);
  });
});
