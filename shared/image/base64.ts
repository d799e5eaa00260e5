import { ApiError, Messages } from '../contract/errors.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL = /^data:image\/[a-zA-Z0-9.+-]+;base64,/;

/**
 * Strict base64 → bytes. Node's decoder silently skips invalid characters, which would turn garbage
 * into a "not an image" error instead of the contract's base64 message; so the alphabet is checked first.
 * A `data:image/...;base64,` prefix and line breaks (MIME base64) are tolerated.
 */
export function decodeBase64Image(text: string): Buffer {
  let s = text.startsWith('data:') ? text.replace(DATA_URL, '') : text;
  if (/\s/.test(s)) s = s.replace(/\s+/g, '');
  if (s.length === 0 || s.length % 4 === 1 || !BASE64.test(s)) throw new ApiError(400, Messages.badBase64);
  return Buffer.from(s, 'base64');
}
