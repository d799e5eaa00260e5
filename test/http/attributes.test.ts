import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributesValues } from '../../scripts/eval/attributes.js';
import { postImage, postSample, startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { EmotionLabels } from '../../shared/contract/objects.js';
import { demoPhoto, noFaceImage } from '../support/fixtures.js';

type Obj = Record<string, unknown>;

/** The three attribute services, the field each adds, and a check of that field's value. */
const SERVICES = [
  {
    service: 'age-estimator',
    field: 'age',
    check: (v: unknown) => {
      expect(Number.isInteger(v)).toBe(true);
      expect(v as number).toBeGreaterThanOrEqual(15);
      expect(v as number).toBeLessThanOrEqual(55);
    },
  },
  { service: 'gender-estimator', field: 'gender', check: (v: unknown) => expect(v).toBe('FEMALE') },
  {
    service: 'emotion-estimator',
    field: 'emotions',
    check: (v: unknown) => {
      const e = v as { emotion: string; confidence: number }[];
      expect(e.map((x) => x.emotion)).toEqual([...EmotionLabels]);
      expect(Math.abs(e.reduce((s, x) => s + x.confidence, 0) - 1)).toBeLessThan(1e-6);
    },
  },
] as const;

let server: ServerProcess;
const photo = demoPhoto(1); // 1920×1280, three smiling women
let fitted: Obj[] = [];
/** One face of the photo cut out as a tight chip, the way clients send a face crop with no objects. */
let chip: Buffer;

beforeAll(async () => {
  server = await startServer({ values: attributesValues() });
  const r = await postSample(server.url, '/face-detector-face-fitter/process/sample', { $image: photo.toString('base64') });
  expect(r.status).toBe(200);
  fitted = r.body.objects!;
  const [x1, y1, x2, y2] = fitted[0].bbox as number[];
  const side = Math.round(Math.max((x2 - x1) * 1920, (y2 - y1) * 1280));
  const cx = ((x1 + x2) / 2) * 1920, cy = ((y1 + y2) / 2) * 1280;
  chip = await sharp(photo).extract({ left: Math.round(cx - side / 2), top: Math.round(cy - side / 2), width: side, height: side }).resize(200, 200).jpeg().toBuffer();
});

afterAll(async () => {
  await server?.stop();
});

describe('attribute services over HTTP (separate process, dist/ build)', () => {
  it('the fitter finds the three faces the estimators are given', () => {
    expect(fitted).toHaveLength(3);
  });

  for (const { service, field, check } of SERVICES) {
    it(`${service} process/image: detects, then answers every face`, async () => {
      const r = await postImage(server.url, `/${service}/process/image`, photo);
      expect(r.status).toBe(200);
      expect(r.headers.get('server-timing')).toMatch(/inference;dur=/);
      const objects = r.body.objects!;
      expect(objects).toHaveLength(3);
      objects.forEach((o, i) => {
        expect(o.id).toBe(i);
        expect(o.class).toBe('face');
        expect((o.fitter as Obj).fitter_type).toBe('fda');
        check(o[field]);
      });
    });

    it(`${service} process/sample with the fitter's objects: fields added, everything else echoed, non-face objects untouched`, async () => {
      const body = { class: 'body', bbox: [0.1, 0.1, 0.9, 0.9], confidence: 0.5, note: 'kept' };
      const objects = [...fitted.map((o) => ({ ...o, client_tag: `face-${o.id}` })), { id: 10, ...body }];
      const r = await postSample(server.url, `/${service}/process/sample`, { $image: photo.toString('base64'), objects });
      expect(r.status).toBe(200);
      const out = r.body.objects!;
      expect(out).toHaveLength(4);
      for (const [i, o] of out.slice(0, 3).entries()) {
        const { [field]: value, ...rest } = o;
        expect(rest).toEqual(objects[i]);
        check(value);
      }
      expect(out[3]).toEqual({ id: 10, ...body });
    });

    it(`${service} process/sample with no objects: the whole image is one face`, async () => {
      const r = await postSample(server.url, `/${service}/process/sample`, { $image: chip.toString('base64') });
      expect(r.status).toBe(200);
      const out = r.body.objects!;
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ id: 0, class: 'face', bbox: [0, 0, 1, 1] });
      check(out[0][field]);
    });

    it(`${service} process/sample with only non-face objects: returned unchanged`, async () => {
      const objects = [{ id: 0, class: 'body', bbox: [0.2, 0.2, 0.6, 0.9], confidence: 0.8 }];
      const r = await postSample(server.url, `/${service}/process/sample`, { $image: photo.toString('base64'), objects });
      expect(r.status).toBe(200);
      expect(r.body.objects).toEqual(objects);
    });
  }

  it('a face given with only a bbox is fitted and answered like the detected face', async () => {
    const bare = fitted.map((o) => ({ id: o.id, class: 'face', bbox: o.bbox }));
    const [withPoints, bboxOnly] = await Promise.all([
      postSample(server.url, '/age-estimator/process/sample', { $image: photo.toString('base64'), objects: fitted }),
      postSample(server.url, '/age-estimator/process/sample', { $image: photo.toString('base64'), objects: bare }),
    ]);
    expect(bboxOnly.status).toBe(200);
    bboxOnly.body.objects!.forEach((o, i) => {
      expect(o.fitter).toBeUndefined(); // the module fits landmarks for itself; it does not add the fitter's fields
      expect(Math.abs((o.age as number) - (withPoints.body.objects![i].age as number))).toBeLessThanOrEqual(2);
    });
  });

  it('age and gender from process/image agree with the same faces sent as fitter objects', async () => {
    const [img, sample] = await Promise.all([
      postImage(server.url, '/gender-estimator/process/image', photo),
      postSample(server.url, '/age-estimator/process/sample', { $image: photo.toString('base64'), objects: fitted }),
    ]);
    const ages = (await postImage(server.url, '/age-estimator/process/image', photo)).body.objects!.map((o) => o.age as number);
    sample.body.objects!.forEach((o, i) => expect(Math.abs((o.age as number) - ages[i])).toBeLessThanOrEqual(2));
    expect(img.body.objects!.map((o) => o.gender)).toEqual(['FEMALE', 'FEMALE', 'FEMALE']);
  });

  it('emotion-estimator sees the three smiling women as HAPPY', async () => {
    const r = await postSample(server.url, '/emotion-estimator/process/sample', { $image: photo.toString('base64'), objects: fitted });
    for (const o of r.body.objects!) {
      const e = o.emotions as { emotion: string; confidence: number }[];
      expect(e.reduce((m, x) => (x.confidence > m.confidence ? x : m)).emotion).toBe('HAPPY');
    }
  });

  it('process/image on a photo without faces returns no objects', async () => {
    for (const { service } of SERVICES) {
      const r = await postImage(server.url, `/${service}/process/image`, await noFaceImage());
      expect(r.status).toBe(200);
      expect(r.body.objects).toEqual([]);
    }
  });
});
