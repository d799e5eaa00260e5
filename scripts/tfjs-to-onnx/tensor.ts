// In-memory constant tensors and the small amount of n-d arithmetic the converter needs
// (weight re-layout, constant folding). Deliberately tiny: this is not a tensor library.

/**
 * Element types as the converter sees them. TF int32/int64 are both represented as 'int64'
 * inside the ONNX graph (ONNX shape ops want int64); 'int32' only appears at graph inputs/outputs.
 */
export type DType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';

export type TensorData = Float32Array | Float64Array | Uint8Array | Int8Array;

/**
 * A constant. Integer dtypes hold their values in a Float64Array (exact up to 2^53, plenty for
 * the int32 values TFJS can store) so folding can use plain number arithmetic.
 */
export interface ConstTensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
  /** The original IEEE half bits when the weights file stored this tensor as float16. */
  half?: Uint16Array;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function isIntDType(d: DType): boolean {
  return d === 'int64' || d === 'int32' || d === 'uint8' || d === 'int8';
}

export function allocData(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case 'float32':
    case 'float16': // float16 values are computed in float32; the bits live in `half`
      return new Float32Array(n);
    case 'float64':
    case 'int64':
    case 'int32':
      return new Float64Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    case 'int8':
      return new Int8Array(n);
  }
}

export function makeTensor(dtype: DType, shape: number[], values: ArrayLike<number>): ConstTensor {
  const data = allocData(dtype, numel(shape));
  if (values.length !== data.length) {
    throw new Error(`makeTensor: ${values.length} values for shape [${shape.join(',')}]`);
  }
  for (let i = 0; i < data.length; i++) data[i] = values[i];
  return { dtype, shape: [...shape], data };
}

/** Values of a small constant as plain numbers (for axes, shapes, perms, paddings). */
export function toNumbers(t: ConstTensor): number[] {
  return Array.from(t.data as ArrayLike<number>, (v) => Number(v));
}

/** Generic transpose (used for HWIO→OIHW etc.); carries the float16 bits along unchanged. */
export function transposeTensor(t: ConstTensor, perm: readonly number[]): ConstTensor {
  const rank = t.shape.length;
  if (perm.length !== rank) throw new Error(`transpose: perm ${perm} for rank ${rank}`);
  const outShape = perm.map((p) => t.shape[p]);
  const inStrides = stridesOf(t.shape);
  const n = numel(outShape);
  const data = allocData(t.dtype, n);
  const half = t.half ? new Uint16Array(n) : undefined;
  const src = t.data;
  const idx = new Array<number>(rank).fill(0);
  // Walk output indices in row-major order, tracking the matching input offset incrementally.
  const permStrides = perm.map((p) => inStrides[p]);
  let inOff = 0;
  for (let o = 0; o < n; o++) {
    data[o] = src[inOff];
    if (half && t.half) half[o] = t.half[inOff];
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax]++;
      inOff += permStrides[ax];
      if (idx[ax] < outShape[ax]) break;
      inOff -= permStrides[ax] * outShape[ax];
      idx[ax] = 0;
    }
  }
  return half ? { dtype: t.dtype, shape: outShape, data, half } : { dtype: t.dtype, shape: outShape, data };
}

export function reshapeTensor(t: ConstTensor, shape: number[]): ConstTensor {
  if (numel(shape) !== numel(t.shape)) {
    throw new Error(`reshape: [${t.shape}] -> [${shape}] changes the element count`);
  }
  return { ...t, shape: [...shape] };
}

/** Numpy-style broadcast of two static shapes; undefined when incompatible. */
export function broadcastStatic(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Maps a flat output index to the flat index of a (broadcast) input of shape `inShape`. */
export function broadcastIndexer(outShape: readonly number[], inShape: readonly number[]): (o: number) => number {
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - inShape.length).fill(1), ...inShape];
  const inStrides = stridesOf(padded);
  const outStrides = stridesOf(outShape);
  return (o: number) => {
    let off = 0;
    for (let ax = 0; ax < rank; ax++) {
      const i = Math.floor(o / outStrides[ax]) % outShape[ax];
      if (padded[ax] !== 1) off += i * inStrides[ax];
    }
    return off;
  };
}
