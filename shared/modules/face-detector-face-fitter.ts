import { FaceCapturer } from '../blocks/face-capturer.js';
import { faceObject, nextId } from './objects.js';
import type { ModuleFactory } from './runtime.js';

/** Detect faces, fit 21 fda points, eye centres and head angles; the client's objects are kept. */
export const create: ModuleFactory = async (config) => {
  const capturer = await FaceCapturer.create(config.capturer!);
  return {
    config,
    async process({ image, objects }) {
      const img = image!;
      const faces = await capturer.capture(img);
      let id = nextId(objects);
      return { objects: [...objects, ...faces.map((f) => faceObject(f, id++, img.width, img.height, img.scale))] };
    },
  };
};
