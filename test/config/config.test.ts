import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configDir, parseConfigXml, resolveConfigObject } from '../../shared/config/config-object.js';
import { serviceConfigFromEnv, serviceConfigToEnv } from '../../shared/config/env-codec.js';
import { resolveServiceConfig } from '../../shared/config/service-config.js';
import { loadValues, parseValues, servicesFromValues } from '../../shared/config/values.js';

describe('config objects', () => {
  it('ships every file name the contract lists that this version backs', () => {
    const files = readdirSync(configDir());
    for (const name of [
      'common_capturer_uld_fda.xml',
      'method12v30_recognizer.xml',
      'method12v50_recognizer.xml',
      'method12v100_recognizer.xml',
      'method12v1000_recognizer.xml',
      'liveness_2d_estimator_v3.xml',
    ]) {
      expect(files).toContain(name);
    }
  });

  it('reads the original defaults and applies overrides', () => {
    const c = resolveConfigObject('common_capturer_uld_fda.xml', {}, 'test');
    expect(c.role).toBe('capturer');
    expect(c.params).toMatchObject({ min_size: 150, score_threshold: 0.7, nms_iou_threshold: 0.2, coarse_score_threshold: 0.3, fitter_type: 'fda' });
    expect(resolveConfigObject('common_capturer_uld_fda.xml', { min_size: 60 }, 'test').params).toMatchObject({ min_size: 60 });
  });

  it('names the valid choices for an unknown file, an unknown parameter and a wrong type', () => {
    expect(() => resolveConfigObject('common_capturer_blf_fda_front.xml', {}, 'x')).toThrow(/unknown config object.*valid names: .*common_capturer_uld_fda\.xml/);
    expect(() => resolveConfigObject('common_capturer_uld_fda.xml', { min_sise: 1 }, 'x')).toThrow(/unknown parameter "min_sise".*valid parameters: .*min_size/);
    expect(() => resolveConfigObject('common_capturer_uld_fda.xml', { min_size: 'big' }, 'x')).toThrow(/parameter "min_size"/);
    expect(() => resolveConfigObject('method12v30_recognizer.xml', { flip_augmentation: 3 }, 'x')).toThrow(ConfigError);
  });

  it('parses the flat XML with comments and rejects stray content', () => {
    expect(parseConfigXml('<?xml version="1.0"?><!-- c --><opencv_storage><a>1</a><b>true</b><c>x</c></opencv_storage>', 'f')).toEqual({ a: 1, b: true, c: 'x' });
    expect(() => parseConfigXml('<opencv_storage><a>1</a>junk</opencv_storage>', 'f')).toThrow(/unexpected content/);
  });
});

const VALUES = `
processing:
  services:
    face-detector-face-fitter:
      replicas: 3
      configs:
        - name: common_capturer_uld_fda.xml
          params: { min_size: 60, score_threshold: 0.8 }
    face-detector-template-extractor:
      configs:
        - name: method12v100_recognizer.xml
`;

describe('values file', () => {
  it('the shipped values file is valid', () => {
    expect(servicesFromValues(loadValues()).size).toBeGreaterThanOrEqual(3);
  });

  it('turns a service block into a config with module, overrides and defaults', () => {
    const services = servicesFromValues(parseValues(VALUES, 'v.yaml'));
    const fitter = services.get('face-detector-face-fitter')!;
    expect(fitter.module).toBe('face-detector-face-fitter');
    expect(resolveServiceConfig(fitter, 'x').capturer).toMatchObject({ min_size: 60, score_threshold: 0.8, nms_iou_threshold: 0.2 });
    const extractor = resolveServiceConfig(services.get('face-detector-template-extractor')!, 'x');
    expect(extractor.recognizer).toEqual({ model: 'fr_feature', flip_augmentation: true });
    expect(extractor.configNames.capturer).toBe('common_capturer_uld_fda.xml');
  });

  it('refuses bad values with the YAML path and the valid choices', () => {
    const bad = (yaml: string) => () => servicesFromValues(parseValues(yaml, 'v.yaml'));
    expect(bad('processing: {services: {face-detector-face-fitter: {module: verify-matcher}}}')).toThrow(/processing\.services\.face-detector-face-fitter\.module.*valid modules: face-detector-face-fitter/);
    expect(bad('processing: {services: {face-detector-face-fitter: {replicas: -1}}}')).toThrow(/processing\.services\.face-detector-face-fitter\.replicas/);
    expect(bad('processing: {services: {no-such-service: {}}}')).toThrow(/unknown service "no-such-service"; valid services:/);
    expect(bad('processing: {services: {face-detector-face-fitter: {configs: [{name: method12v30_recognizer.xml}]}}}')).toThrow(/takes no recognizer config/);
    expect(bad('processing: {services: {face-detector-face-fitter: {additional_variables: {foo: 1}}}}')).toThrow(/unknown variable\(s\) foo/);
    expect(bad('processing: {services: {face-detector-face-fitter: {replica: 2}}}')).toThrow(/unknown key\(s\) replica/);
  });
});

describe('env codec', () => {
  it('round-trips a service config through the env a Knative Service carries', () => {
    const services = servicesFromValues(parseValues(VALUES, 'v.yaml'));
    for (const config of services.values()) {
      const env = serviceConfigToEnv(config);
      expect(serviceConfigFromEnv(env)).toEqual(config);
    }
    const env = serviceConfigToEnv(services.get('face-detector-face-fitter')!);
    expect(env).toEqual({
      CAPTURER_CONFIG: 'common_capturer_uld_fda.xml',
      CAPTURER_MIN_SIZE: '60',
      CAPTURER_SCORE_THRESHOLD: '0.8',
      FUNCTION_TARGET: 'face-detector-face-fitter',
    });
  });

  it('reads a change made the way `kn service update --env` makes it, and refuses a typo', () => {
    const config = serviceConfigFromEnv({ FUNCTION_TARGET: 'face-detector-face-fitter', CAPTURER_MIN_SIZE: '200' });
    expect(resolveServiceConfig(config, 'env').capturer?.min_size).toBe(200);
    expect(() => serviceConfigFromEnv({ FUNCTION_TARGET: 'face-detector-face-fitter', CAPTURER_MIN_SIZ: '1' })).toThrow(/CAPTURER_MIN_SIZ: unknown capturer parameter; valid: .*CAPTURER_MIN_SIZE/);
    expect(() => serviceConfigFromEnv({ FUNCTION_TARGET: 'nope' })).toThrow(/valid modules/);
  });
});
