import { ApiError } from '../contract/errors.js';

export interface FilePart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** `multipart/form-data` body (already in memory, size-limited upstream) → its parts. */
export function parseMultipart(body: Buffer, contentType: string): FilePart[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new ApiError(400, 'multipart/form-data without a boundary');
  const boundary = Buffer.from(`--${m[1] ?? m[2].trim()}`);
  const parts: FilePart[] = [];
  let pos = body.indexOf(boundary);
  if (pos < 0) throw new ApiError(400, 'Malformed multipart body: boundary not found');
  while (true) {
    pos += boundary.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing "--"
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw new ApiError(400, 'Malformed multipart body: part headers not terminated');
    const headers = body.toString('latin1', pos, headerEnd);
    const next = body.indexOf(boundary, headerEnd + 4);
    if (next < 0) throw new ApiError(400, 'Malformed multipart body: closing boundary not found');
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    const disposition = /content-disposition:\s*form-data([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name !== undefined) {
      parts.push({
        name,
        filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1],
        contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim(),
        data: body.subarray(headerEnd + 4, end),
      });
    }
    pos = next;
  }
  return parts;
}

/** The `image` file field of a process/image upload; missing → the contract's 422 shape. */
export function imageField(body: Buffer, contentType: string): Buffer {
  const part = parseMultipart(body, contentType).find((p) => p.name === 'image');
  if (!part) throw new ApiError(422, [{ loc: ['body', 'image'], msg: 'Field required', type: 'missing' }]);
  return part.data;
}
