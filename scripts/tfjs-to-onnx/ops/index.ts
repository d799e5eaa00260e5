// Registry of TF op -> ONNX mapper.

import type { OpMapper } from '../context.js';
import { arrayOps } from './array.js';
import { elementwiseOps } from './elementwise.js';
import { imageOps } from './image.js';
import { nnOps } from './nn.js';
import { reduceOps } from './reduce.js';

const REGISTRY = new Map<string, OpMapper>(Object.entries({ ...elementwiseOps, ...nnOps, ...arrayOps, ...reduceOps, ...imageOps }));

export function getMapper(op: string): OpMapper | undefined {
  return REGISTRY.get(op);
}

/** TF ops the converter can map (Const, Placeholder and pass-through ops are handled by the driver). */
export function supportedOps(): string[] {
  return [...REGISTRY.keys()].sort();
}
