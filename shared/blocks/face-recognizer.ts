import type { RecognizerParams } from '../config/config-object.js';
import type { RgbImage } from '../image/rgb-image.js';
import type { CapturedFace } from './face-capturer.js';
import { encodeTemplate, templateByteSize, type FaceTemplate } from './face-template.js';
import { fivePoints } from './landmarks.js';
import { TemplateExtractor } from './template-extractor.js';

/** Embedding space of the shipped recognizer; bumped whenever its model or pre-processing changes. */
export const templateTag = (params: RecognizerParams) => `${params.model}-512.v1`;

/** The recognizer config object as a block: captured face → template. */
export class FaceRecognizer {
  private constructor(
    readonly params: RecognizerParams,
    private readonly extractor: TemplateExtractor,
  ) {}

  static async create(params: RecognizerParams): Promise<FaceRecognizer> {
    return new FaceRecognizer(params, await TemplateExtractor.create(params));
  }

  get tag(): string {
    return templateTag(this.params);
  }

  async template(img: RgbImage, face: CapturedFace): Promise<FaceTemplate> {
    const { vector } = await this.extractor.embed(img, fivePoints(face.landmarks), this.params.flip_augmentation);
    return { tag: this.tag, vector };
  }

  /** `$template` and `template_size` fields for a face object. */
  async templateFields(img: RgbImage, face: CapturedFace): Promise<{ $template: string; template_size: number }> {
    const t = await this.template(img, face);
    return { $template: encodeTemplate(t), template_size: templateByteSize(t) };
  }
}
