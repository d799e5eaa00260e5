import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCounts, matchBoxes, type MatchCounts } from '../../scripts/lib/box-matching.js';
import { hasDataset } from '../../scripts/lib/datasets.js';
import { postImage, postSample, startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { bodyPredictions, bodyValues, readBodyAnnotations, truthBoxes } from '../../scripts/eval/tasks/body.js';
import { demoPhoto, noFaceImage } from '../support/fixtures.js';

type Obj = Record<string, unknown>;
const PATH = '/body-detector';

/** The shipped defaults (centernet, 0.3, 0.5) and NanoDet at its own operating point. */
let shipped: ServerProcess;
let nanodet: ServerProcess;

beforeAll(async () => {
  [shipped, nanodet] = await Promise.all([
    startServer({ values: 'processing:\n  services:\n    body-detector: {}\n' }),
    startServer({ values: bodyValues('nanodet', 0.4, 0.4) }),
  ]);
});

afterAll(async () => {
  await Promise.all([shipped?.stop(), nanodet?.stop()]);
});

function expectBodies(objects: Obj[], firstId: number, threshold: number): void {
  expect(objects.length).toBeGreaterThanOrEqual(2);
  objects.forEach((o, i) => {
    expect(Object.keys(o).sort()).toEqual(['bbox', 'class', 'confidence', 'id']);
    expect(o.id).toBe(firstId + i);
    expect(o.class).toBe('body');
    expect(o.confidence as number).toBeGreaterThanOrEqual(threshold);
    expect(o.confidence as number).toBeLessThanOrEqual(1);
    const [x1, y1, x2, y2] = o.bbox as number[];
    for (const v of [x1, y1, x2, y2]) expect(v >= 0 && v <= 1).toBe(true);
    expect(x2).toBeGreaterThan(x1);
    expect(y2).toBeGreaterThan(y1);
    // Standing people in a landscape group photo: taller than wide, at least a third of its height.
    expect((y2 - y1) * 1280).toBeGreaterThan((x2 - x1) * 1920);
    expect(y2 - y1).toBeGreaterThan(1 / 3);
  });
}

describe('body-detector through HTTP (separate process, dist/ build)', () => {
  const photo = demoPhoto(1); // 1920×1280, three women standing

  it('process/image: people in a group photo', async () => {
    const r = await postImage(shipped.url, `${PATH}/process/image`, photo);
    expect(r.status).toBe(200);
    expect(r.body.$image).toBe(photo.toString('base64'));
    expectBodies(r.body.objects!, 0, 0.3);
    expect(r.body.objects!.length).toBeLessThanOrEqual(4);
    expect(r.headers.get('server-timing')).toMatch(/inference;dur=[\d.]+/);
  });

  it("process/sample: the same people, the client's objects kept and new ids after theirs", async () => {
    const face = { id: 4, class: 'face', bbox: [0.45, 0.3, 0.5, 0.4], note: 'kept' };
    const r = await postSample(shipped.url, `${PATH}/process/sample`, { $image: photo.toString('base64'), objects: [{}, face] });
    expect(r.status).toBe(200);
    const [first, ...bodies] = r.body.objects!;
    expect(first).toEqual(face);
    expectBodies(bodies, 5, 0.3);
    const viaImage = await postImage(shipped.url, `${PATH}/process/image`, photo);
    expect(bodies.map((b) => b.bbox)).toEqual(viaImage.body.objects!.map((b) => b.bbox));
  });

  it('the model variable selects NanoDet, and its score_threshold is honoured', async () => {
    const r = await postSample(nanodet.url, `${PATH}/process/sample`, { $image: photo.toString('base64') });
    expect(r.status).toBe(200);
    expectBodies(r.body.objects!, 0, 0.4);
    const centernet = await postImage(shipped.url, `${PATH}/process/image`, photo);
    // Two different networks: the same people, never the very same numbers.
    expect(r.body.objects!.map((o) => o.confidence)).not.toEqual(centernet.body.objects!.map((o) => o.confidence));
  });

  it('an image without people gives no bodies on either route', async () => {
    const image = await noFaceImage();
    for (const server of [shipped, nanodet]) {
      expect((await postImage(server.url, `${PATH}/process/image`, image)).body.objects).toEqual([]);
      const r = await postSample(server.url, `${PATH}/process/sample`, { $image: image.toString('base64'), objects: [{ id: 0, class: 'face' }] });
      expect(r.status).toBe(200);
      expect(r.body.objects).toEqual([{ id: 0, class: 'face' }]);
    }
  });

  it('a bad image is the contract error', async () => {
    const r = await postSample(shipped.url, `${PATH}/process/sample`, { $image: Buffer.from('not an image').toString('base64') });
    expect(r).toMatchObject({ status: 400, body: { detail: 'This image format is not supported' } });
  });
});

describe.skipIf(!hasDataset('person_detection_coco'))('body-detector on person_detection_coco scenes (dev split, IoU 0.5)', () => {
  async function scenes(server: ServerProcess): Promise<MatchCounts> {
    const { root, annotations } = readBodyAnnotations();
    let counts: MatchCounts = { truths: 0, predictions: 0, matched: 0 };
    for (const a of annotations.filter((x) => x.kind === 'scene')) {
      const r = await postSample(server.url, `${PATH}/process/sample`, { $image: readFileSync(join(root, a.file)).toString('base64') });
      expect(r.status).toBe(200);
      counts = addCounts(counts, matchBoxes(bodyPredictions(r.body.objects ?? [], a.width, a.height), truthBoxes(a)));
    }
    return counts;
  }

  it('the shipped configuration: recall ≥ 60 % at precision ≥ 80 %', async () => {
    const c = await scenes(shipped);
    expect(c.truths).toBeGreaterThan(50);
    expect(c.matched / c.truths).toBeGreaterThanOrEqual(0.6);
    expect(c.matched / c.predictions).toBeGreaterThanOrEqual(0.8);
  });

  it('NanoDet at score 0.4, NMS 0.4: recall ≥ 60 % at precision ≥ 80 %', async () => {
    const c = await scenes(nanodet);
    expect(c.matched / c.truths).toBeGreaterThanOrEqual(0.6);
    expect(c.matched / c.predictions).toBeGreaterThanOrEqual(0.8);
  });
});
