import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaceCapturer } from '../../shared/blocks/face-capturer.js';
import { drawMask, sampleMaskStyle, seededRng } from '../../shared/blocks/synthetic-mask.js';
import { resolveConfigObject, type CapturerParams } from '../../shared/config/config-object.js';
import { decodeImage } from '../../shared/image/decode.js';
import type { RgbImage } from '../../shared/image/rgb-image.js';
import { postImage, postSample, startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { MASK_VALUES } from '../../scripts/eval/tasks/mask.js';
import { noFaceImage, oneFace640 } from '../support/fixtures.js';

type Obj = Record<string, unknown>;
interface MaskField {
  value: boolean;
  confidence: number;
}

let server: ServerProcess;
/** One face, bare and with a mask in a colour the probe never saw, as JPEG; and the face box in pixels. */
let bare: Buffer, masked: Buffer;
let box: { x1: number; y1: number; x2: number; y2: number };
let bareCrop: Buffer, maskedCrop: Buffer;

const jpeg = (img: RgbImage) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();

beforeAll(async () => {
  // The mask estimator as the eval runs it, plus the fitter to produce client face objects with fda points.
  const values = `${MASK_VALUES}    face-detector-face-fitter:
      configs:
        - name: common_capturer_uld_fda.xml
          params: { min_size: 20 }
`;
  const starting = startServer({ values });
  const capturer = await FaceCapturer.create(
    resolveConfigObject('common_capturer_uld_fda.xml', { min_size: 20, angles: 'geometry' }, 'test').params as CapturerParams,
  );
  bare = await oneFace640();
  const img = await decodeImage(bare, { maxPixels: 40_000_000 });
  // The crop also holds the edge of a second face: the selfie's face is the largest.
  const [face] = (await capturer.capture(img)).sort((a, b) => b.box.y2 - b.box.y1 - (a.box.y2 - a.box.y1));
  box = face.box;
  // Worn over the nose (the style sampler also draws masks below it, a harder case than this test wants).
  masked = await jpeg(drawMask(img, face.landmarks, { ...sampleMaskStyle(seededRng(31337), 'holdout', 'surgical'), noseLevel: 0.45 }));
  // Face crops (the box grown by a fifth), as a client of a mask-classification set would send them.
  const g = 0.2 * (box.y2 - box.y1);
  const region = { left: Math.round(box.x1 - g), top: Math.round(box.y1 - g), width: Math.round(box.x2 - box.x1 + 2 * g), height: Math.round(box.y2 - box.y1 + 2 * g) };
  bareCrop = await sharp(bare).extract(region).jpeg().toBuffer();
  maskedCrop = await sharp(masked).extract(region).jpeg().toBuffer();
  server = await starting;
});

afterAll(async () => {
  await server?.stop();
});

const field = (o: Obj | undefined) => o?.has_medical_mask as MaskField;
const height = (o: Obj) => (o.bbox as number[])[3] - (o.bbox as number[])[1];
const largest = (objects: Obj[]) => [...objects].sort((a, b) => height(b) - height(a))[0];

function expectMaskField(o: Obj | undefined, value: boolean): void {
  const m = field(o);
  expect(m).toBeDefined();
  expect(Object.keys(m).sort()).toEqual(['confidence', 'value']);
  expect(m.value).toBe(value);
  expect(m.confidence).toBeGreaterThanOrEqual(0.5);
  expect(m.confidence).toBeLessThanOrEqual(1);
}

describe('mask-estimator over HTTP (dist/ build)', () => {
  it('process/image: detects the face first and judges it', async () => {
    for (const [bytes, value] of [[bare, false], [masked, true]] as const) {
      const r = await postImage(server.url, '/mask-estimator/process/image', bytes);
      expect(r.status).toBe(200);
      const faces = (r.body.objects ?? []).filter((o) => o.class === 'face');
      expect(faces.length).toBeGreaterThanOrEqual(1);
      for (const f of faces) expect(typeof field(f).value).toBe('boolean');
      expectMaskField(largest(faces), value);
    }
  });

  it('process/image: no face, no objects', async () => {
    const r = await postImage(server.url, '/mask-estimator/process/image', await noFaceImage());
    expect(r.status).toBe(200);
    expect(r.body.objects).toEqual([]);
  });

  it('process/sample without objects: the whole image is the face', async () => {
    for (const [bytes, value] of [[bareCrop, false], [maskedCrop, true]] as const) {
      const r = await postSample(server.url, '/mask-estimator/process/sample', { $image: bytes.toString('base64') });
      expect(r.status).toBe(200);
      expect(r.body.$image).toBe(bytes.toString('base64'));
      expect(r.body.objects).toHaveLength(1);
      const [o] = r.body.objects!;
      expect(o).toMatchObject({ id: 0, class: 'face', bbox: [0, 0, 1, 1] });
      expectMaskField(o, value);
    }
  });

  it('process/sample with a face box: judged there; client fields and other objects kept', async () => {
    const bbox = [box.x1 / 640, box.y1 / 480, box.x2 / 640, box.y2 / 480];
    const body = { id: 1, class: 'body', confidence: 0.8, bbox: [0.05, 0.05, 0.95, 0.95] };
    for (const [bytes, value] of [[bare, false], [masked, true]] as const) {
      const r = await postSample(server.url, '/mask-estimator/process/sample', {
        $image: bytes.toString('base64'),
        objects: [body, { id: 0, class: 'face', bbox, note: 'client field' }],
      });
      expect(r.status).toBe(200);
      const [face, other] = r.body.objects!;
      expect(face).toMatchObject({ id: 0, class: 'face', bbox, note: 'client field' });
      expectMaskField(face, value);
      expect(other).toEqual(body);
    }
  });

  it('process/sample with the fitter\'s face objects: aligned from their fda points', async () => {
    for (const [bytes, value] of [[bare, false], [masked, true]] as const) {
      const fitted = await postSample(server.url, '/face-detector-face-fitter/process/sample', { $image: bytes.toString('base64') });
      expect(fitted.status).toBe(200);
      const objects = [largest(fitted.body.objects!)];
      const r = await postSample(server.url, '/mask-estimator/process/sample', { $image: bytes.toString('base64'), objects });
      expect(r.status).toBe(200);
      const [face] = r.body.objects!;
      expect(face.fitter).toEqual(objects[0].fitter);
      expect(face.angles).toEqual(objects[0].angles);
      expectMaskField(face, value);
    }
  });
});
