import { ApiError } from '../contract/errors.js';

/**
 * Template wire format (ours; the original's is proprietary): base64 of
 *   "IAPT" | u8 format version | u8 tag length | tag (ASCII) | u16 LE dimension | dimension × f32 LE.
 * The tag names the embedding space (model and its version), so templates from different
 * recognizers are never compared by accident.
 */
const MAGIC = 'IAPT';
const VERSION = 1;

export interface FaceTemplate {
  tag: string;
  vector: Float32Array;
}

export function encodeTemplate(t: FaceTemplate): string {
  const tag = Buffer.from(t.tag, 'ascii');
  const buf = Buffer.alloc(4 + 1 + 1 + tag.length + 2 + t.vector.length * 4);
  buf.write(MAGIC, 0, 'ascii');
  buf.writeUInt8(VERSION, 4);
  buf.writeUInt8(tag.length, 5);
  tag.copy(buf, 6);
  let o = 6 + tag.length;
  buf.writeUInt16LE(t.vector.length, o);
  o += 2;
  for (const v of t.vector) o = buf.writeFloatLE(v, o);
  return buf.toString('base64');
}

export function decodeTemplate(text: string, where: string): FaceTemplate {
  const bad = (why: string) => new ApiError(400, `Invalid face template in ${where}: ${why}`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw bad('not base64');
  const buf = Buffer.from(text, 'base64');
  if (buf.length < 8 || buf.toString('ascii', 0, 4) !== MAGIC) throw bad('not a template made by this API');
  if (buf.readUInt8(4) !== VERSION) throw bad(`unsupported template format version ${buf.readUInt8(4)}`);
  const tagLength = buf.readUInt8(5);
  if (buf.length < 8 + tagLength) throw bad('truncated');
  const tag = buf.toString('ascii', 6, 6 + tagLength);
  const dim = buf.readUInt16LE(6 + tagLength);
  const start = 8 + tagLength;
  if (buf.length !== start + dim * 4 || dim === 0) throw bad('truncated or padded');
  const vector = new Float32Array(dim);
  for (let i = 0; i < dim; i++) vector[i] = buf.readFloatLE(start + i * 4);
  if (!vector.every(Number.isFinite)) throw bad('non-finite values');
  return { tag, vector };
}

export const templateByteSize = (t: FaceTemplate) => 8 + t.tag.length + t.vector.length * 4;
