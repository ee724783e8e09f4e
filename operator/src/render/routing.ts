/**
 * Where requests go and whom each Deployment believes about them: pure decisions from the spec,
 * shared by the Ingress, the NetworkPolicy and both Deployments' environments.
 */
import { normalizeBasePath, parseTrustedProxies } from '#contract';
import { DEFAULT_TRUSTED_PROXIES, type WebUI } from '../api/v1alpha1/webui.ts';

export { DEFAULT_TRUSTED_PROXIES };

export function ingressEnabled(w: WebUI): boolean {
  return w.spec.ingress?.enabled === true && w.spec.ingress.host !== undefined;
}

/**
 * The path prefix users reach the app under: the Ingress path without its
 * trailing slash ("/chat"), or "" at the root and without an Ingress.
 */
export function servedPath(w: WebUI): string {
  if (!ingressEnabled(w)) return '';
  try {
    return normalizeBasePath(w.spec.ingress?.path ?? '/');
  } catch (e) {
    throw new Error(`spec.ingress.path: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Whether the Ingress sends the API straight to the backend Service
 * (spec.ingress.apiRoute, default backend). Without an Ingress every request
 * reaches the frontend, which forwards the API.
 */
export function apiViaBackend(w: WebUI): boolean {
  return ingressEnabled(w) && (w.spec.ingress?.apiRoute ?? 'backend') === 'backend';
}

/**
 * The paths the Ingress sends to the backend when apiViaBackend: those the
 * frontend forwarder forwards (webui/src/server/app.ts, FORWARDED), under the
 * served path. Prefix matches whole path segments, so /api does not take /apidocs.
 */
export function backendIngressPaths(w: WebUI): { path: string; pathType: 'Prefix' | 'Exact' }[] {
  const base = servedPath(w);
  return [
    { path: `${base}/api`, pathType: 'Prefix' },
    { path: `${base}/ollama`, pathType: 'Prefix' },
    { path: `${base}/health`, pathType: 'Prefix' },
    { path: `${base}/openapi.json`, pathType: 'Exact' },
  ];
}

/**
 * The proxies the frontend trusts (its FORWARDED_ALLOW_IPS): spec.network.trustedProxies, or the
 * private and loopback ranges when unset. Checked with the server's own parser, so a list the
 * server would refuse at startup is reported on the WebUI instead of crash-looping the pods.
 */
export function trustedProxies(w: WebUI): string[] {
  const list = w.spec.network?.trustedProxies ?? DEFAULT_TRUSTED_PROXIES;
  try {
    parseTrustedProxies(list);
  } catch (e) {
    throw new Error(`spec.network.trustedProxies: ${e instanceof Error ? e.message : String(e)}`);
  }
  return [...list];
}

/**
 * Whose X-Forwarded-* the backend believes. Reached only through the frontend
 * forwarder (its NetworkPolicy admits nothing else), from pod IPs the operator
 * cannot know in advance, it trusts any peer's last X-Forwarded-For entry: the
 * sign-in rate limit then counts the address the frontend saw instead of
 * lumping every user under the frontend pod's IP (one attacker would lock
 * everyone out), and X-Forwarded-Proto sets the Secure cookie. When the Ingress
 * sends the API to the backend it is a front door as well, and believes what
 * the frontend believes: spec.network.trustedProxies (an empty list: no one).
 */
export function backendTrustedProxies(w: WebUI): string[] {
  return apiViaBackend(w) ? trustedProxies(w) : ['*'];
}
