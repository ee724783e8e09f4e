/**
 * What a request target may look like once it is past the front door
 * (middleware/request-target.ts), shared with the forwarder, which must not
 * send on a path other than the one the app decided about.
 */

/**
 * Origin-form (`/path?query`, RFC 9112 §3.2.1). Absolute-form
 * (`GET http://host/x`) is for requests to proxies; this server is none.
 */
export const isOriginForm = (target: string): boolean => target.startsWith('/');

/** `%00` anywhere in the path or query: a NUL once decoded. */
export const hasEncodedNul = (target: string): boolean => /%00/i.test(target);

/**
 * A `.` or `..` segment (also as `%2e`), or a backslash, which URL parsers
 * read as a slash: the path then names another path than it spells.
 */
const DOT_SEGMENT = /(^|[/\\])(\.|%2e){1,2}([/\\]|$)|\\/i;

export const isNormalisedPath = (path: string): boolean => !DOT_SEGMENT.test(path);

/** The path with its dot segments resolved and backslashes read as slashes, as a browser would. */
export function normalisePath(path: string): string {
  return new URL(path, 'http://h').pathname;
}
