// Image resizing. TF attributes map onto ONNX Resize coordinate modes one to one:
// align_corners -> align_corners, half_pixel_centers -> half_pixel (bilinear) or
// tf_half_pixel_for_nn (nearest), neither -> asymmetric.

import type { OpContext, OpMapper, Val } from '../context.js';
import { type Dim, attr } from '../onnx-builder.js';
import { toNumbers } from '../tensor.js';

function resize(mode: 'linear' | 'nearest'): OpMapper {
  return (ctx: OpContext): Val[] => {
    const x = ctx.input(0);
    const size = ctx.input(1);
    const alignCorners = ctx.attrs.bool('align_corners', false);
    const halfPixel = ctx.attrs.bool('half_pixel_centers', false);
    if (alignCorners && halfPixel) ctx.fail('align_corners together with half_pixel_centers');
    let coord = 'asymmetric';
    let nearestMode = 'floor';
    if (alignCorners) {
      coord = 'align_corners';
      nearestMode = 'round_prefer_ceil';
    } else if (halfPixel) {
      coord = mode === 'linear' ? 'half_pixel' : 'tf_half_pixel_for_nn';
    }
    // NCHW in, so 'sizes' is [N, C, h, w]; N and C come from the input at run time unless static.
    const nchw = ctx.emit('Transpose', [x], { perm: attr.ints([0, 3, 1, 2]) });
    const xs = x.shape;
    const hw = size.const ? toNumbers(size.const) : undefined;
    let sizes: Val | string;
    if (xs && xs.length === 4 && typeof xs[0] === 'number' && typeof xs[3] === 'number' && hw) {
      sizes = ctx.int64s([xs[0], xs[3], hw[0], hw[1]]);
    } else {
      const shape = ctx.emit('Shape', [nchw]);
      const nc = ctx.emit('Slice', [shape, ctx.int64s([0]), ctx.int64s([2]), ctx.int64s([0])]);
      sizes = ctx.emit('Concat', [nc, size], { axis: attr.int(0) });
    }
    const a = {
      mode: attr.string(mode),
      coordinate_transformation_mode: attr.string(coord),
      ...(mode === 'nearest' ? { nearest_mode: attr.string(nearestMode) } : {}),
    };
    const y = ctx.emit('Resize', [nchw, '', '', sizes], a);
    const out = ctx.emit('Transpose', [y], { perm: attr.ints([0, 2, 3, 1]) }, ctx.outName());
    const shape: Dim[] | undefined = xs && xs.length === 4 ? [xs[0], hw ? hw[0] : null, hw ? hw[1] : null, xs[3]] : undefined;
    return [{ name: out, dtype: x.dtype, shape }];
  };
}

export const imageOps: Record<string, OpMapper> = {
  ResizeBilinear: resize('linear'),
  ResizeNearestNeighbor: resize('nearest'),
};
