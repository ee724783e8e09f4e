/**
 * The one error type handlers throw. The error middleware turns it into
 * `{"detail": "..."}` with the given status; anything else becomes a 500
 * whose message is logged, not sent.
 */
export class HttpError extends Error {
  readonly status: number;
  /** Extra headers for the response (e.g. Retry-After on 429). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

export const badRequest = (detail: string) => new HttpError(400, detail);
export const unauthorized = (detail = 'Not authenticated') => new HttpError(401, detail);
export const forbidden = (
  detail = 'You do not have permission to access this resource. Please contact your administrator for assistance.',
) => new HttpError(403, detail);
export const notFound = (detail = 'Not Found') => new HttpError(404, detail);
export const conflict = (detail: string) => new HttpError(409, detail);
export const tooManyRequests = (detail: string, retryAfterSeconds: number) =>
  new HttpError(429, detail, { 'Retry-After': String(retryAfterSeconds) });
export const badGateway = (detail: string) => new HttpError(502, detail);
export const gatewayTimeout = (detail: string) => new HttpError(504, detail);
