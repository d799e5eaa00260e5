import { FaceCapturer } from '../blocks/face-capturer.js';
import { FaceRecognizer } from '../blocks/face-recognizer.js';
import { faceObject, nextId } from './objects.js';
import type { ModuleFactory } from './runtime.js';

/** The detector's faces, each with `$template` and `template_size`. */
export const create: ModuleFactory = async (config) => {
  const [capturer, recognizer] = await Promise.all([FaceCapturer.create(config.capturer!), FaceRecognizer.create(config.recognizer!)]);
  return {
    config,
    async process({ image, objects }) {
      const img = image!;
      const faces = await capturer.capture(img);
      let id = nextId(objects);
      const out = [...objects];
      for (const face of faces) {
        out.push({ ...faceObject(face, id++, img.width, img.height, img.scale), ...(await recognizer.templateFields(img, face)) });
      }
      return { objects: out };
    },
  };
};
