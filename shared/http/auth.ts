import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Optional bearer-token check. Both sides are hashed first so the comparison is constant-time whatever
 * the token lengths.
 */
export function bearerAuthorised(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  const given = createHash('sha256').update(m ? m[1].trim() : '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && m !== null;
}
