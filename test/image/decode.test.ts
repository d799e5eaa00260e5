import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/contract/errors.js';
import { decodeBase64Image } from '../../shared/image/base64.js';
import { decodeImage } from '../../shared/image/decode.js';
import { bmp24 } from '../robustness/support.js';
import { demoPhoto } from '../support/fixtures.js';

const limits = { maxPixels: 40_000_000 };

/** A BMP (the format sharp cannot write) from a colour function. */
function bmpOf(width: number, height: number, rgb: (x: number, y: number) => [number, number, number]): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px.set(rgb(x, y), (y * width + x) * 3);
  return bmp24(width, height, px);
}

async function expectApiError(p: Promise<unknown>, status: number, message: string | RegExp) {
  const error = await p.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).status).toBe(status);
  expect(String((error as ApiError).detail)).toMatch(message);
}

describe('decodeImage', () => {
  it('decodes a JPEG to 8-bit RGB at full size', async () => {
    const img = await decodeImage(demoPhoto(1), limits);
    expect([img.width, img.height, img.data.length]).toEqual([1920, 1280, 1920 * 1280 * 3]);
  });

  it('decodes PNG with alpha (flattened onto white) and greyscale to three channels', async () => {
    const rgba = await sharp({ create: { width: 4, height: 2, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const a = await decodeImage(rgba, limits);
    expect([...a.data.subarray(0, 3)]).toEqual([255, 255, 255]);
    const grey = await sharp({ create: { width: 3, height: 3, channels: 3, background: { r: 90, g: 90, b: 90 } } }).greyscale().png().toBuffer();
    const g = await decodeImage(grey, limits);
    expect(g.data.length).toBe(27);
    expect([...g.data.subarray(0, 3)]).toEqual([90, 90, 90]);
  });

  it('decodes a BMP (which libvips cannot) with the right colours and orientation', async () => {
    const img = await decodeImage(bmpOf(5, 3, (x, y) => [x * 50, y * 100, 7]), limits);
    expect([img.width, img.height]).toEqual([5, 3]);
    const at = (x: number, y: number) => [...img.data.subarray((y * 5 + x) * 3, (y * 5 + x) * 3 + 3)];
    expect(at(0, 0)).toEqual([0, 0, 7]);
    expect(at(4, 2)).toEqual([200, 200, 7]);
  });

  it('applies EXIF orientation', async () => {
    // A 40×20 landscape image stored with orientation 6 (rotate 90° clockwise) displays as 20×40.
    const stored = await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 10, g: 200, b: 30 } } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const img = await decodeImage(stored, limits);
    expect([img.width, img.height]).toEqual([20, 40]);
  });

  it('refuses images over the input limit before decoding them', async () => {
    await expectApiError(decodeImage(demoPhoto(1), { maxPixels: 1_000_000 }), 400, /too large.*MAX_INPUT_PIXELS/);
    await expectApiError(decodeImage(demoPhoto(1), { maxPixels: 500_000, maxInputPixels: 2_000_000 }), 400, /too large.*2000000 \(MAX_INPUT_PIXELS\)/);
  });

  it('downscales an image between the decode and input limits, and says by how much', async () => {
    const img = await decodeImage(demoPhoto(1), { maxPixels: 1920 * 1280 / 4, maxInputPixels: 40_000_000 });
    expect([img.width, img.height]).toEqual([960, 640]);
    expect(img.scale).toBeCloseTo(2, 6);
    expect((await decodeImage(demoPhoto(1), { maxPixels: 40_000_000 })).scale).toBe(1);
  });

  it('refuses truncated, non-image and unsupported-format input with the contract message', async () => {
    const jpeg = demoPhoto(1);
    await expectApiError(decodeImage(jpeg.subarray(0, jpeg.length / 2), limits), 400, 'This image format is not supported');
    await expectApiError(decodeImage(Buffer.from('hello, not an image'), limits), 400, 'This image format is not supported');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await expectApiError(decodeImage(svg, limits), 400, 'This image format is not supported');
  });
});

describe('decodeBase64Image', () => {
  it('accepts plain base64, a data: URL prefix and MIME line breaks', () => {
    const bytes = Buffer.from([1, 2, 3, 250, 251]);
    const b64 = bytes.toString('base64');
    expect(decodeBase64Image(b64)).toEqual(bytes);
    expect(decodeBase64Image(`data:image/jpeg;base64,${b64}`)).toEqual(bytes);
    expect(decodeBase64Image(`${b64.slice(0, 4)}\r\n${b64.slice(4)}`)).toEqual(bytes);
  });

  it('refuses characters outside the alphabet, a bad length and an empty string', () => {
    for (const bad of ['not base64!', 'abcde', '', '####']) {
      expect(() => decodeBase64Image(bad)).toThrow('Failed to decode base64 string');
    }
  });
});
