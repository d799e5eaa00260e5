import { FaceCapturer, type CapturedFace } from '../blocks/face-capturer.js';
import { FaceRecognizer } from '../blocks/face-recognizer.js';
import { decodeTemplate, encodeTemplate, templateByteSize, type FaceTemplate } from '../blocks/face-template.js';
import { loadRocTable, Matcher } from '../blocks/matcher.js';
import { ApiError, Messages } from '../contract/errors.js';
import type { ImageObject } from '../contract/objects.js';
import { fromNormalised } from '../geometry/box.js';
import { faceObject, isFace, nextId } from './objects.js';
import type { ModuleFactory } from './runtime.js';

/**
 * Compares the first two face templates. Templates come from the request's face objects; where fewer
 * than two are given and an image is (ours), faces given with a bbox are fitted and embedded, or else
 * faces are detected in the image.
 */
export const create: ModuleFactory = async (config) => {
  const [capturer, recognizer] = await Promise.all([FaceCapturer.create(config.capturer!), FaceRecognizer.create(config.recognizer!)]);
  const matcher = new Matcher(loadRocTable(recognizer.tag));
  return {
    config,
    async process({ image, objects }) {
      const faces = objects.filter(isFace);
      const given = faces.filter((o) => typeof o.$template === 'string');
      let out: ImageObject[] = objects;
      let templates: FaceTemplate[];
      if (given.length >= 2) {
        templates = given.slice(0, 2).map((o) => decodeTemplate(o.$template!, `object ${o.id}`));
      } else if (image) {
        const withBox = faces.filter((o) => o.bbox);
        let captured: { face: CapturedFace; object: ImageObject }[];
        if (withBox.length >= 2) {
          captured = [];
          for (const o of withBox.slice(0, 2)) {
            captured.push({ face: await capturer.fit(image, fromNormalised(o.bbox!, image.width, image.height), o.confidence ?? 1), object: o });
          }
        } else {
          let id = nextId(objects);
          captured = (await capturer.capture(image)).slice(0, 2).map((face) => ({ face, object: faceObject(face, id++, image.width, image.height, image.scale) }));
          if (captured.length < 2) {
            throw new ApiError(400, `verify-matcher needs two faces; the image has ${captured.length}`);
          }
        }
        templates = [];
        const updated = new Map<ImageObject, ImageObject>();
        for (const { face, object } of captured) {
          const t = await recognizer.template(image, face);
          templates.push(t);
          updated.set(object, { ...object, $template: encodeTemplate(t), template_size: templateByteSize(t) });
        }
        out = objects.map((o) => updated.get(o) ?? o);
        for (const [o, u] of updated) if (!objects.includes(o)) out.push(u);
      } else if (faces.length === 0 && objects.length === 0) {
        throw new ApiError(400, Messages.noObjects);
      } else {
        throw new ApiError(400, `verify-matcher needs two face objects with "$template"; got ${given.length}`);
      }
      return { objects: out, verification: matcher.compare(templates[0], templates[1]) };
    },
  };
};
