import { fileURLToPath } from 'node:url';

/**
 * Set by the server bundle's banner (webui/scripts/build-server.ts): inside
 * the bundle every module shares the bundle's import.meta.url, so paths
 * relative to a source file would point to the wrong place.
 */
declare const __WEBUI_APP_ROOT__: string | undefined;

/**
 * The installation root: package.json, webui/ and dist/ live here (the
 * repository, or /app in the image), whether the server runs from the
 * TypeScript sources or from dist/webui.
 */
export const APP_ROOT_URL: URL =
  typeof __WEBUI_APP_ROOT__ === 'string'
    ? new URL(__WEBUI_APP_ROOT__)
    : new URL('../../../', import.meta.url);

/** An absolute path under the installation root. */
export const appPath = (relative: string): string => fileURLToPath(new URL(relative, APP_ROOT_URL));
