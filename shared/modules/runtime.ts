import type { ImageObject, Verification } from '../contract/objects.js';
import type { ResolvedServiceConfig } from '../config/service-config.js';
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

/** A module ready to serve: its blocks loaded and warmed. Stateless between requests. */
export interface ModuleRuntime {
  readonly config: ResolvedServiceConfig;
  process(input: ProcessInput): Promise<ProcessOutput>;
}

export type ModuleFactory = (config: ResolvedServiceConfig) => Promise<ModuleRuntime>;
