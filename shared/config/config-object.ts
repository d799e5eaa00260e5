import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../models/manifest.js';

/**
 * Config objects: files under cfg/conf/ named as in the original's catalogue, each a flat
 * OpenCV-FileStorage-style XML (`<opencv_storage><key>value</key>…</opencv_storage>`) whose `role` says
 * what it configures. `params` from the values file (or env) override single keys; every key is
 * checked against the role's schema, and unknown keys or wrong types are errors that list the choices.
 */
export const CapturerParams = z.strictObject({
  detector: z.enum(['uld']),
  fitter_type: z.enum(['fda']),
  score_threshold: z.number().min(0).max(1),
  coarse_score_threshold: z.number().min(0).max(1),
  nms_iou_threshold: z.number().min(0).max(1),
  min_size: z.number().int().min(0),
  precision_level: z.number().int().min(1).max(3),
  tile_score_threshold: z.number().min(0).max(1),
  max_faces: z.number().int().min(1).max(1000),
  angles: z.enum(['pose', 'geometry']),
});
export type CapturerParams = z.infer<typeof CapturerParams>;

export const RecognizerParams = z.strictObject({
  model: z.enum(['fr_feature']),
  flip_augmentation: z.boolean(),
});
export type RecognizerParams = z.infer<typeof RecognizerParams>;

export const LivenessParams = z.strictObject({
  model: z.enum(['fr_liveness']),
  threshold: z.number().min(0).max(1),
  min_face_size: z.number().int().min(0),
  max_outside_ratio: z.number().min(0).max(1),
  max_yaw: z.number().min(0).max(90),
  max_pitch: z.number().min(0).max(90),
});
export type LivenessParams = z.infer<typeof LivenessParams>;

export const RoleSchemas = { capturer: CapturerParams, recognizer: RecognizerParams, liveness: LivenessParams } as const;
export type Role = keyof typeof RoleSchemas;
export const Roles = Object.keys(RoleSchemas) as Role[];
export type RoleParams = { capturer: CapturerParams; recognizer: RecognizerParams; liveness: LivenessParams };

export type Scalar = string | number | boolean;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const configDir = () => join(projectRoot, 'cfg', 'conf');

export function configFileNames(): string[] {
  return readdirSync(configDir()).filter((f) => f.endsWith('.xml')).sort();
}

/** Text from a file or an env var → typed scalar: booleans and numbers are recognised, the rest stays text. */
export function parseScalar(text: string): Scalar {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return t;
}

/** The flat XML of a config object → key/value pairs (comments and the XML declaration ignored). */
export function parseConfigXml(xml: string, file: string): Record<string, Scalar> {
  const body = xml.replace(/<\?xml[^>]*\?>/g, '').replace(/<!--[\s\S]*?-->/g, '').trim();
  const root = /^<opencv_storage>([\s\S]*)<\/opencv_storage>$/.exec(body);
  if (!root) throw new ConfigError(`${file}: expected a single <opencv_storage> element`);
  const out: Record<string, Scalar> = {};
  const element = /<([A-Za-z_][\w]*)>([^<]*)<\/\1>/g;
  const rest = root[1].replace(element, (_, key: string, value: string) => {
    out[key] = parseScalar(value);
    return '';
  });
  if (rest.trim() !== '') throw new ConfigError(`${file}: unexpected content "${rest.trim().slice(0, 40)}"`);
  return out;
}

export interface ConfigObject<R extends Role = Role> {
  name: string;
  role: R;
  params: RoleParams[R];
}

function describeChoices(schema: z.ZodObject): string {
  return Object.keys(schema.shape).join(', ');
}

/** Reads a config object file and applies overrides; `where` names the source of the overrides in errors. */
export function resolveConfigObject(name: string, overrides: Record<string, unknown>, where: string): ConfigObject {
  const files = configFileNames();
  if (!files.includes(name)) {
    throw new ConfigError(`${where}: unknown config object "${name}"; valid names: ${files.join(', ')}`);
  }
  const { role, ...defaults } = parseConfigXml(readFileSync(join(configDir(), name), 'utf8'), name);
  if (typeof role !== 'string' || !(role in RoleSchemas)) throw new ConfigError(`${name}: <role> must be one of ${Roles.join(', ')}`);
  const schema = RoleSchemas[role as Role];
  for (const key of Object.keys(overrides)) {
    if (!(key in schema.shape)) {
      throw new ConfigError(`${where}: unknown parameter "${key}" for ${name}; valid parameters: ${describeChoices(schema)}`);
    }
  }
  const parsed = schema.safeParse({ ...defaults, ...overrides });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.join('.');
    const from = key in overrides ? where : name;
    throw new ConfigError(`${from}: parameter "${key}" of ${name}: ${issue.message}`);
  }
  return { name, role: role as Role, params: parsed.data };
}
