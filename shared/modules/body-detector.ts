import { BodyDetector } from '../blocks/body-detector.js';
import type { ImageObject } from '../contract/objects.js';
import { toNormalised } from '../geometry/box.js';
import { Modules } from './catalogue.js';
import { nextId } from './objects.js';
import type { ModuleFactory } from './runtime.js';

const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/**
 * People in the image: `{id, class: "body", confidence, bbox}` each, most confident first. process/image
 * and process/sample behave alike (a body detector has no use for the client's boxes); the client's
 * objects are kept and new ids continue after theirs.
 */
export const create: ModuleFactory = async (config) => {
  // Already validated when the config was resolved; parsing again gives the typed values.
  const variables = Modules['body-detector'].variables.parse(config.variables);
  const detector = await BodyDetector.create(variables.model);
  return {
    config,
    async process({ image, objects }) {
      const img = image!;
      const bodies = await detector.detect(img, variables);
      let id = nextId(objects);
      const found: ImageObject[] = bodies.map((b) => ({
        id: id++,
        class: 'body',
        confidence: round(b.score, 4),
        bbox: toNormalised(b.box, img.width, img.height).map((v) => round(v, 5)) as [number, number, number, number],
      }));
      return { objects: [...objects, ...found] };
    },
  };
};
