import type { ImageObject, Verification } from '../contract/objects.js';
import type { ResolvedServiceConfig } from '../config/service-config.js';
import type { DecodeLimits, ImageInspection } from '../image/decode.js';
import type { RgbImage } from '../image/rgb-image.js';

export interface ProcessInput {
  /** Absent only where the module accepts requests without `$image` (the matcher). */
  image?: RgbImage;
  /** Normalised request objects (ids assigned, sorted); empty for process/image. */
  objects: ImageObject[];
  route: 'image' | 'sample';
}

export interface ProcessOutput {
  objects: ImageObject[];
  verification?: Verification;
}

/** An image as the HTTP thread hands it to a runtime that decodes it itself: inspected and admitted, not decoded. */
export interface EncodedImage {
  bytes: Uint8Array;
  inspection: ImageInspection;
  limits: Pick<DecodeLimits, 'maxPixels' | 'maxInputPixels'>;
}

export type EncodedProcessInput = Omit<ProcessInput, 'image'> & { encoded?: EncodedImage };

/** A module ready to serve: its blocks loaded and warmed. Stateless between requests. */
export interface ModuleRuntime {
  readonly config: ResolvedServiceConfig;
  process(input: ProcessInput): Promise<ProcessOutput>;
  /**
   * Present where the runtime decodes images itself, off the HTTP thread (module workers): the HTTP
   * thread then only inspects and admits the image, and a few kB of JPEG cross threads, not megabytes of pixels.
   */
  processEncoded?(input: EncodedProcessInput): Promise<ProcessOutput>;
}

export type ModuleFactory = (config: ResolvedServiceConfig) => Promise<ModuleRuntime>;
