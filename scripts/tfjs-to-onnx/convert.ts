// TFJS graph model -> ONNX (opset 13).
//
// The driver walks the TF graph from its outputs in dependency order, folds nodes whose inputs are
// all constant (fold.ts), hands every other node to its mapper (ops/*.ts) and serialises the
// result (onnx-builder.ts). Conventions every mapper relies on:
// - Layout: the graph stays in the source layout (NHWC); spatial ops are wrapped in Transpose pairs
//   that onnxruntime cancels at load time (see ops/nn.ts).
// - Integers: TF int32 is int64 inside the graph, because ONNX shape/index inputs are int64;
//   int32 graph inputs get a Cast, int32 outputs (per the signature) are cast back.
// - Weights: float16-quantised weights stay float16 initialisers + Cast when that is smaller
//   (exact: every half is a float); onnxruntime folds the Casts, so run time is unaffected.
// - Anything that cannot be mapped exactly throws UnsupportedOpError(op, node).

import { canFold, tryFold } from './fold.js';
import type { OpContext, ResolvedOptions, Val } from './context.js';
import { UnsupportedOpError } from './errors.js';
import {
  AttrReader,
  decodeInlineTensor,
  loadGraphModelFile,
  parseInputRef,
  shapeProtoDims,
  type TfGraphModel,
  type TfNodeDef,
  tfTypeToDType,
} from './graph-model.js';
import { type Attrs, type Dim, OnnxGraphBuilder, attr, onnxDataType } from './onnx-builder.js';
import { getMapper } from './ops/index.js';
import { type ConstTensor, type DType, makeTensor, numel } from './tensor.js';

export { UnsupportedOpError } from './errors.js';

export interface ConvertOptions {
  /** Keep fp16-quantised weights as float16 initialisers + Cast where that makes the file smaller (default true). */
  keepFp16?: boolean;
}

export interface TensorSummary {
  name: string;
  dtype: DType;
  dims?: Dim[];
}

export interface ConversionReport {
  model: string;
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  nodeCount: number;
  initializerCount: number;
  fp16Initializers: number;
  foldedNodes: number;
  ops: Record<string, number>;
}

export interface ConversionResult {
  bytes: Uint8Array;
  report: ConversionReport;
}

/** Converts model.json (+ shards beside it) to a serialised ONNX ModelProto. */
export function convertGraphModel(modelJsonPath: string, options?: ConvertOptions): Uint8Array {
  return convertTfGraphModel(loadGraphModelFile(modelJsonPath), options).bytes;
}

/** Same as convertGraphModel, also returning what was produced (for the CLI and tests). */
export function convertGraphModelWithReport(modelJsonPath: string, options?: ConvertOptions): ConversionResult {
  return convertTfGraphModel(loadGraphModelFile(modelJsonPath), options);
}

/** Converts an already loaded graph model (in-memory models in tests use this). */
export function convertTfGraphModel(model: TfGraphModel, options: ConvertOptions = {}): ConversionResult {
  return new Converter(model, { keepFp16: options.keepFp16 ?? true }).run();
}

/** Ops that only forward their input. */
const PASS_THROUGH = new Set(['Identity', 'Snapshot', 'StopGradient', 'PreventGradient', 'EnsureShape', 'CheckNumerics']);

/** TF1 control-flow primitives (a while loop in the GraphDef is a cycle through these). */
const CONTROL_FLOW_OPS = new Set(['Enter', 'Exit', 'Merge', 'Switch', 'NextIteration', 'LoopCond']);

/** Bytes a Cast node plus its extra initialiser name cost in the file, roughly. */
function castOverheadBytes(name: string): number {
  return 3 * name.length + 48;
}

class Converter {
  private readonly b = new OnnxGraphBuilder();
  private readonly nodes = new Map<string, TfNodeDef>();
  /** TF tensor 'node' / 'node:i' -> value. */
  private readonly values = new Map<string, Val>();
  private fp16Initializers = 0;
  private foldedNodes = 0;
  /** Const and folded TF nodes: they emit no ONNX node, so an initialiser may take their name. */
  private readonly constNames = new Set<string>();
  private outputNames = new Set<string>();

  constructor(
    private readonly model: TfGraphModel,
    private readonly options: ResolvedOptions,
  ) {
    for (const n of model.nodes) {
      if (this.nodes.has(n.name)) throw new Error(`${model.name}: duplicate node name '${n.name}'`);
      this.nodes.set(n.name, n);
    }
    this.b.reserve(this.nodes.keys());
  }

  run(): ConversionResult {
    const outputRefs = this.outputRefs();
    this.outputNames = new Set(outputRefs.map((r) => r.name));
    const order = this.topoOrder(outputRefs.map((r) => parseInputRef(r.ref).node));
    // Refuse before doing any work if something in the graph has no mapping.
    for (const n of order) {
      if (n.op !== 'Const' && !n.op.startsWith('Placeholder') && !PASS_THROUGH.has(n.op) && !getMapper(n.op) && !canFold(n.op)) {
        throw new UnsupportedOpError(n.op, n.name, 'no ONNX mapping');
      }
    }
    const inputs: TensorSummary[] = [];
    for (const n of order) this.convertNode(n, inputs);

    const outputs: TensorSummary[] = [];
    for (const { ref, name, tfDtype } of outputRefs) {
      const v = this.lookup(ref, '(graph output)');
      let src = this.use(v);
      let dtype = v.dtype;
      if (tfDtype === 'DT_INT32' && dtype === 'int64') {
        // Inside the graph ints are int64; give callers the dtype the TF signature promises.
        if (src === name) {
          src = `${name}/int64`;
          this.b.renameValue(name, src);
          v.name = src;
        }
        this.emitRaw('Cast', [src], { to: attr.int(onnxDataType('int32')) }, this.claim(name));
        src = name;
        dtype = 'int32';
      }
      if (src !== name) this.emitRaw('Identity', [src], {}, this.claim(name));
      const dims = v.shape && v.shape.every((d) => d !== null) ? v.shape : undefined;
      this.b.addOutput(name, dtype, dims);
      outputs.push({ name, dtype, dims });
    }

    const report: ConversionReport = {
      model: this.model.name,
      inputs,
      outputs,
      nodeCount: this.b.nodeCount,
      initializerCount: this.b.initializerCount,
      fp16Initializers: this.fp16Initializers,
      foldedNodes: this.foldedNodes,
      ops: this.b.opHistogram(),
    };
    const json = this.model.json;
    const bytes = this.b.toBytes({
      graphName: this.model.name,
      docString: `Converted from TFJS graph model '${this.model.name}'${json.generatedBy ? ` (source: ${json.generatedBy})` : ''}`,
      props: {
        source_format: 'tfjs-graph-model',
        ...(json.generatedBy ? { source_generated_by: json.generatedBy } : {}),
        layout: 'NHWC as in the source graph',
      },
    });
    return { bytes, report };
  }

  /** Output tensors in the order TFJS reports them (signature order, else childless nodes). */
  private outputRefs(): { ref: string; name: string; tfDtype?: string }[] {
    const sigOut = this.model.signature?.outputs;
    const refs: { ref: string; name: string; tfDtype?: string }[] = [];
    if (sigOut && Object.keys(sigOut).length > 0) {
      for (const info of Object.values(sigOut)) {
        const { node, index } = parseInputRef(info.name);
        if (!this.nodes.has(node)) continue; // TFJS skips these too
        refs.push({ ref: info.name, name: index === 0 ? node : `${node}:${index}`, tfDtype: info.dtype });
      }
    }
    if (refs.length === 0) {
      const consumed = new Set<string>();
      for (const n of this.nodes.values()) for (const i of n.input ?? []) consumed.add(parseInputRef(i).node);
      for (const n of this.nodes.values()) {
        if (!consumed.has(n.name) && n.op !== 'NoOp') refs.push({ ref: n.name, name: n.name });
      }
    }
    if (refs.length === 0) throw new Error(`${this.model.name}: graph has no outputs`);
    return refs;
  }

  /** Nodes the outputs depend on, dependencies first (iterative: graphs can be deep). */
  private topoOrder(roots: string[]): TfNodeDef[] {
    const order: TfNodeDef[] = [];
    const state = new Map<string, 1 | 2>(); // 1 = on stack, 2 = done
    for (const root of roots) {
      const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        const node = this.nodes.get(top.name);
        if (!node) throw new Error(`${this.model.name}: reference to unknown node '${top.name}'`);
        if (top.next === 0) {
          if (state.get(top.name) === 2) {
            stack.pop();
            continue;
          }
          state.set(top.name, 1);
        }
        const ins = node.input ?? [];
        if (top.next < ins.length) {
          const ref = parseInputRef(ins[top.next++]);
          // Control dependencies order side effects in TF; they carry no data, so ignore them.
          if (ref.control) continue;
          const s = state.get(ref.node);
          if (s === 1) throw this.cycleError(stack.map((e) => e.name));
          if (s !== 2) stack.push({ name: ref.node, next: 0 });
        } else {
          state.set(top.name, 2);
          order.push(node);
          stack.pop();
        }
      }
    }
    return order;
  }

  /** A cycle only arises from TF1 while loops: name the loop op, not whichever node closed it. */
  private cycleError(path: string[]): UnsupportedOpError {
    const nodes = path.map((p) => this.nodes.get(p) as TfNodeDef);
    const loop = nodes.find((n) => CONTROL_FLOW_OPS.has(n.op)) ?? nodes[nodes.length - 1];
    return new UnsupportedOpError(loop.op, loop.name, 'TF1 control flow (while loop) has no ONNX mapping');
  }

  private lookup(ref: string, consumer: string): Val {
    const { node, index } = parseInputRef(ref);
    const key = index === 0 ? node : `${node}:${index}`;
    const v = this.values.get(key);
    if (!v) throw new Error(`${this.model.name}: '${consumer}' reads '${ref}', which was not produced`);
    return v;
  }

  private claim(name: string): string {
    return this.b.claim(name);
  }

  private convertNode(n: TfNodeDef, inputs: TensorSummary[]): void {
    const attrs = new AttrReader(n.attr ?? {});
    if (n.op === 'Const') {
      const t = this.model.weights.get(n.name) ?? this.inlineConst(n, attrs);
      this.values.set(n.name, { dtype: t.dtype, shape: [...t.shape], const: t, hint: n.name });
      this.constNames.add(n.name);
      return;
    }
    if (n.op === 'Placeholder' || n.op === 'PlaceholderV2') {
      this.values.set(n.name, this.addGraphInput(n, attrs, inputs));
      return;
    }
    const dataInputs = (n.input ?? []).filter((r) => !r.startsWith('^')).map((r) => this.lookup(r, n.name));
    // PlaceholderWithDefault is frozen to its default: TFJS callers never feed it either.
    if (PASS_THROUGH.has(n.op) || n.op === 'PlaceholderWithDefault') {
      this.values.set(n.name, dataInputs[0]);
      return;
    }
    if (n.op === 'IdentityN') {
      dataInputs.forEach((v, i) => this.values.set(i === 0 ? n.name : `${n.name}:${i}`, v));
      return;
    }
    if (dataInputs.every((v) => v.const)) {
      const folded = tryFold(n.op, attrs, dataInputs.map((v) => v.const as ConstTensor));
      if (folded) {
        this.foldedNodes++;
        folded.forEach((t, i) => {
          const key = i === 0 ? n.name : `${n.name}:${i}`;
          this.values.set(key, { dtype: t.dtype, shape: [...t.shape], const: t, hint: key });
          this.constNames.add(key);
        });
        return;
      }
    }
    const mapper = getMapper(n.op);
    if (!mapper) throw new UnsupportedOpError(n.op, n.name, canFold(n.op) ? 'only supported with constant inputs' : 'no ONNX mapping');
    const outs = mapper(this.context(n, attrs, dataInputs));
    outs.forEach((v, i) => this.values.set(i === 0 ? n.name : `${n.name}:${i}`, v));
  }

  private inlineConst(n: TfNodeDef, attrs: AttrReader): ConstTensor {
    const t = attrs.tensor('value');
    if (!t) throw new Error(`${this.model.name}: Const '${n.name}' has neither a weight entry nor an inline value`);
    return decodeInlineTensor(t);
  }

  private addGraphInput(n: TfNodeDef, attrs: AttrReader, inputs: TensorSummary[]): Val {
    const tfType = attrs.type('dtype');
    const dtype = tfTypeToDType(tfType);
    if (!dtype) throw new UnsupportedOpError(n.op, n.name, `input dtype ${tfType ?? '?'}`);
    let raw = shapeProtoDims(attrs.shape('shape'));
    if (!raw) {
      const sig = Object.values(this.model.signature?.inputs ?? {}).find((i) => parseInputRef(i.name).node === n.name);
      raw = shapeProtoDims(sig?.tensorShape);
    }
    // Dynamic batch becomes the named dim 'N'; other unknown dims get their own names.
    const dims: Dim[] | undefined = raw?.map((d, i) => (d >= 0 ? d : i === 0 ? 'N' : `${n.name}_dim${i}`));
    const external: DType = tfType === 'DT_INT32' ? 'int32' : dtype;
    this.b.addInput(this.claim(n.name), external, dims);
    inputs.push({ name: n.name, dtype: external, dims });
    if (external === 'int32') {
      const cast = this.emitRaw('Cast', [n.name], { to: attr.int(onnxDataType('int64')) }, this.b.fresh(`${n.name}/int64`));
      return { name: cast, dtype: 'int64', shape: dims };
    }
    return { name: n.name, dtype, shape: dims };
  }

  private emitRaw(op: string, inputs: string[], attrs: Attrs, out: string): string {
    this.b.addNode(op, inputs, [out], attrs);
    return out;
  }

  /** Writes a constant as an initialiser the first time a node consumes it. */
  use(v: Val): string {
    if (v.name) return v.name;
    const t = v.const;
    if (!t) throw new Error('value has neither a name nor a constant');
    const base = v.hint ?? 'const';
    // Keep the TF weight name when it is free (readable graphs); graph output names stay reserved.
    const exact = this.constNames.has(base) && !this.outputNames.has(base) && !this.b.isUsed(base);
    const name = exact ? this.b.claim(base) : this.b.fresh(base);
    if (t.half && this.options.keepFp16 && t.dtype === 'float32' && numel(t.shape) * 2 > castOverheadBytes(base)) {
      const halfName = this.b.fresh(`${base}/fp16`);
      this.b.addInitializer(halfName, t, 'float16');
      this.emitRaw('Cast', [halfName], { to: attr.int(onnxDataType('float32')) }, name);
      this.fp16Initializers++;
    } else {
      this.b.addInitializer(name, t);
    }
    v.name = name;
    return name;
  }

  private context(n: TfNodeDef, attrs: AttrReader, inputs: Val[]): OpContext {
    const fail = (detail?: string): never => {
      throw new UnsupportedOpError(n.op, n.name, detail);
    };
    const names = (ins: (Val | string)[]): string[] => ins.map((i) => (typeof i === 'string' ? i : this.use(i)));
    return {
      node: n,
      op: n.op,
      name: n.name,
      attrs,
      options: this.options,
      inputCount: inputs.length,
      input: (i) => inputs[i] ?? fail(`missing input ${i}`),
      constInput: (i, what) => {
        const v = inputs[i] ?? fail(`missing input ${i} (${what})`);
        return v.const ?? fail(`${what} must be a constant`);
      },
      use: (v) => this.use(v),
      emit: (op, ins, a = {}, out) => {
        const o = out ?? this.b.fresh(`${n.name}/${op}`);
        this.b.addNode(op, names(ins), [o], a);
        return o;
      },
      emitMulti: (op, ins, outs, a = {}) => {
        this.b.addNode(op, names(ins), outs, a);
        return outs;
      },
      outName: (i = 0) => this.claim(i === 0 ? n.name : `${n.name}:${i}`),
      tmp: (suffix) => this.b.fresh(`${n.name}/${suffix}`),
      constVal: (t, hint) => ({ dtype: t.dtype, shape: [...t.shape], const: t, hint: hint ?? `${n.name}/const` }),
      int64s: (values, shape) => {
        const t = makeTensor('int64', shape ?? [values.length], values);
        return { dtype: 'int64', shape: [...t.shape], const: t, hint: `${n.name}/const` };
      },
      scalar: (dtype, value) => {
        const t = makeTensor(dtype, [], [value]);
        return { dtype, shape: [], const: t, hint: `${n.name}/const` };
      },
      fail,
    };
  }
}
