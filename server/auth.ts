/** The bearer-token guard of the protected routes (jobs; shared-memory registrations and the infer requests that use them). */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ServeError } from './errors.js';

/** Express middleware: passes when no token is configured, else needs `Authorization: Bearer <token>`. */
export function bearerAuth(token: string | undefined, what: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    checkBearer(token, req, res, what);
    next();
  };
}

/** The same check inside a handler (e.g. an infer request only when it touches shared memory). */
export function checkBearer(token: string | undefined, req: Request, res: Response, what: string): void {
  if (token === undefined) return;
  const want = Buffer.from(token);
  const h = req.headers.authorization;
  if (!h) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="emzoo"');
    throw new ServeError('Unauthorized', `${what} need a bearer token`, {
      hint: "send Authorization: Bearer <token> (the server's --token)",
    });
  }
  const got = Buffer.from(/^Bearer (.+)$/.exec(h)?.[1] ?? '');
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw new ServeError('Forbidden', 'the bearer token is not valid here', {
      hint: 'use the token the server was started with (--token or EMZOO_SERVE_TOKEN)',
    });
  }
}
