/**
 * The one table of the backend's environment: which setting of the env contract
 * (`#contract`, webui/src/contract/env.ts) each part of a WebUI spec sets. Env
 * names come from the contract; what the operator does with each setting comes
 * from here:
 * - render/backend.ts renders the backend env row by row, in this order;
 * - WEBUI_MANAGED_SETTINGS lists the rendered settings an admin could otherwise change;
 * - the CEL rule on spec.extraEnv (webui.ts) refuses every row's variable but a `default`.
 */
import { type SettingName, settings } from '#contract';

/**
 * How the operator sets a contract setting on the backend:
 * - `spec`: from the spec field `field`, formatted by the contract;
 * - `secret`: a secretKeyRef to the Secret the spec field `field` names (or the generated one);
 * - `operator`: a value of the operator's own that the pod needs (its port, its volume, the managed list);
 * - `default`: the operator's value unless spec.extraEnv sets the variable;
 * - `reserved`: never set on the backend, and refused in spec.extraEnv, for the reason `why`.
 */
export type BackendEnvRow =
  | { readonly setting: SettingName; readonly from: 'spec' | 'secret'; readonly field: string }
  | { readonly setting: SettingName; readonly from: 'operator' | 'default' }
  | { readonly setting: SettingName; readonly from: 'reserved'; readonly why: string };

// The order is the rendered order: reordering changes every backend's config hash and rolls its pods.
export const BACKEND_ENV = [
  { setting: 'port', from: 'operator' },
  { setting: 'dataDir', from: 'operator' },
  { setting: 'ollamaBaseUrl', from: 'spec', field: 'ollama.baseUrl' },
  // baseUrls, or baseUrl as a list of one: the server then has one place to read its upstreams.
  { setting: 'ollamaBaseUrls', from: 'spec', field: 'ollama.baseUrls' },
  { setting: 'clientTimeout', from: 'spec', field: 'ollama.timeoutSeconds' },
  { setting: 'enableSignup', from: 'spec', field: 'auth.enableSignup' },
  { setting: 'defaultUserRole', from: 'spec', field: 'auth.defaultUserRole' },
  { setting: 'resetConfigOnStart', from: 'spec', field: 'config.resetToken' },
  { setting: 'configResetToken', from: 'spec', field: 'config.resetToken' },
  { setting: 'managedSettings', from: 'operator' },
  { setting: 'forwardedAllowIps', from: 'default' },
  // Only when the Ingress sends the API to the backend under a sub-path (render/routing.ts).
  { setting: 'basePath', from: 'spec', field: 'ingress.path' },
  { setting: 'webuiSecretKey', from: 'secret', field: 'auth.secretKeyRef' },
  { setting: 'databaseUrl', from: 'secret', field: 'database.urlSecretRef' },
  {
    setting: 'host',
    from: 'reserved',
    why: 'the Service and the probes reach the server on the pod IP, so it must listen on all addresses (the default)',
  },
  {
    setting: 'backendUrl',
    from: 'reserved',
    why: 'the operator points the frontend at the backend Service; the backend forwards nowhere',
  },
] as const satisfies readonly BackendEnvRow[];

type Row = (typeof BACKEND_ENV)[number];
/** Settings rendered as a literal value. */
export type LiteralSetting = Extract<Row, { from: 'spec' | 'operator' | 'default' }>['setting'];
/** Settings rendered as a reference to a Secret. */
export type SecretSetting = Extract<Row, { from: 'secret' }>['setting'];

/**
 * Env names spec.extraEnv may not set: every row but a `default`. Listed in
 * the contract's order, as docs/webui-server.md lists them, not the rendered one.
 */
export const OPERATOR_MANAGED_ENV: readonly string[] = (Object.keys(settings) as SettingName[])
  .filter((k) => BACKEND_ENV.some((r) => r.setting === k && r.from !== 'default'))
  .map((k) => settings[k].env);
