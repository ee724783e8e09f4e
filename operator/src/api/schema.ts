/**
 * A tiny builder for Kubernetes structural OpenAPI v3 schemas that also
 * carries the TypeScript type of each node, so the CRD YAML, the API docs and
 * the operator's types come from one definition and cannot drift.
 *
 * Every node needs a description (kubectl explain shows it). Two type views:
 * - `Input<S>`: what a user may write (defaulted fields are optional);
 * - `Output<S>`: what the API server stores after defaulting (defaulted fields are present).
 */

export type OpenApi = Record<string, unknown>;

export interface Rule {
  /** CEL expression evaluated by the API server. */
  rule: string;
  /** Shown to the user when the rule fails; say what to do. */
  message: string;
}

export type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'map' | 'raw';

/**
 * A schema node. `T` is the value type, `Req` whether an enclosing object
 * requires it, `Def` whether the API server fills it in (has a default).
 * The phantom `__out`/`__in` members exist only at the type level.
 */
export interface Schema<TOut, TIn = TOut, Req extends boolean = boolean, Def extends boolean = boolean> {
  readonly __out?: TOut;
  readonly __in?: TIn;
  readonly __req?: Req;
  readonly __def?: Def;
  readonly kind: Kind;
  readonly description: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly validations: readonly Rule[];
  /** Object fields. */
  readonly fields?: Readonly<Record<string, AnySchema>>;
  /** Array items or map values. */
  readonly items?: AnySchema;
  /** The OpenAPI properties of this node alone (children added by `toOpenApi`). */
  readonly own: OpenApi;
}

// biome-ignore lint/suspicious/noExplicitAny: variance-free constraint for heterogeneous schema trees (type level only)
export type AnySchema = Schema<any, any, boolean, boolean>;

export type Output<S> = S extends Schema<infer O, unknown, boolean, boolean> ? O : never;
export type Input<S> = S extends Schema<unknown, infer I, boolean, boolean> ? I : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type PresentAfterDefaulting<F> =
  F extends Schema<unknown, unknown, infer R, infer D>
    ? R extends true
      ? true
      : D extends true
        ? true
        : false
    : false;
type RequiredOnInput<F> = F extends Schema<unknown, unknown, infer R, boolean> ? R : false;

type Shape = Record<string, AnySchema>;
export type ObjectOutput<S extends Shape> = Simplify<
  { [K in keyof S as PresentAfterDefaulting<S[K]> extends true ? K : never]: Output<S[K]> } & {
    [K in keyof S as PresentAfterDefaulting<S[K]> extends true ? never : K]?: Output<S[K]>;
  }
>;
export type ObjectInput<S extends Shape> = Simplify<
  { [K in keyof S as RequiredOnInput<S[K]> extends true ? K : never]: Input<S[K]> } & {
    [K in keyof S as RequiredOnInput<S[K]> extends true ? never : K]?: Input<S[K]>;
  }
>;

interface Common {
  description: string;
  required?: boolean;
  validations?: readonly Rule[];
  /** Extra OpenAPI keywords (e.g. x-kubernetes-list-type). */
  extra?: OpenApi;
}

type ReqOf<O> = O extends { required: true } ? true : false;
type DefOf<O> = O extends { default: unknown } ? true : false;

function node<TOut, TIn, R extends boolean, D extends boolean>(
  kind: Kind,
  opts: Common & { default?: unknown },
  own: OpenApi,
  children: { fields?: Record<string, AnySchema>; items?: AnySchema } = {},
): Schema<TOut, TIn, R, D> {
  if (!opts.description || opts.description.trim() === '')
    throw new Error(`a ${kind} schema needs a description`);
  const s: Schema<TOut, TIn, R, D> = {
    kind,
    description: opts.description,
    required: opts.required === true,
    validations: opts.validations ?? [],
    own: { ...own, ...(opts.extra ?? {}) },
    ...(opts.default !== undefined ? { default: opts.default } : {}),
    ...children,
  };
  return s;
}

interface StringOpts extends Common {
  default?: string;
  enum?: readonly string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
}
type StringOf<O> = O extends { enum: readonly (infer E)[] } ? E : string;

export function string<const O extends StringOpts>(
  o: O,
): Schema<StringOf<O>, StringOf<O>, ReqOf<O>, DefOf<O>> {
  return node('string', o, {
    type: 'string',
    ...(o.enum ? { enum: [...o.enum] } : {}),
    ...(o.pattern !== undefined ? { pattern: o.pattern } : {}),
    ...(o.minLength !== undefined ? { minLength: o.minLength } : {}),
    ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}),
    ...(o.format !== undefined ? { format: o.format } : {}),
  });
}

interface NumberOpts extends Common {
  default?: number;
  minimum?: number;
  maximum?: number;
}

export function integer<const O extends NumberOpts & { format?: 'int32' | 'int64' }>(
  o: O,
): Schema<number, number, ReqOf<O>, DefOf<O>> {
  return node('integer', o, {
    type: 'integer',
    ...(o.format ? { format: o.format } : {}),
    ...(o.minimum !== undefined ? { minimum: o.minimum } : {}),
    ...(o.maximum !== undefined ? { maximum: o.maximum } : {}),
  });
}

export function boolean<const O extends Common & { default?: boolean }>(
  o: O,
): Schema<boolean, boolean, ReqOf<O>, DefOf<O>> {
  return node('boolean', o, { type: 'boolean' });
}

export function array<I extends AnySchema, const O extends Common & { minItems?: number; maxItems?: number }>(
  items: I,
  o: O,
): Schema<Output<I>[], Input<I>[], ReqOf<O>, DefOf<O>> {
  return node(
    'array',
    o,
    {
      type: 'array',
      ...(o.minItems !== undefined ? { minItems: o.minItems } : {}),
      ...(o.maxItems !== undefined ? { maxItems: o.maxItems } : {}),
    },
    { items },
  );
}

export function object<S extends Shape, const O extends Common & { default?: Record<string, unknown> }>(
  fields: S,
  o: O,
): Schema<ObjectOutput<S>, ObjectInput<S>, ReqOf<O>, DefOf<O>> {
  return node('object', o, { type: 'object' }, { fields });
}

/** A string-keyed map (additionalProperties). */
export function map<V extends AnySchema, const O extends Common & { maxProperties?: number }>(
  values: V,
  o: O,
): Schema<Record<string, Output<V>>, Record<string, Input<V>>, ReqOf<O>, DefOf<O>> {
  return node(
    'map',
    o,
    { type: 'object', ...(o.maxProperties !== undefined ? { maxProperties: o.maxProperties } : {}) },
    { items: values },
  );
}

/**
 * A node whose OpenAPI is given verbatim (e.g. Kubernetes core types kept
 * opaque with x-kubernetes-preserve-unknown-fields). `T` is asserted by the caller.
 */
export function raw<T, const O extends Common = Common>(
  openApi: OpenApi,
  o: O,
): Schema<T, T, ReqOf<O>, false> {
  return node('raw', o, openApi);
}

/** The OpenAPI v3 structural schema of a node and its children. */
export function toOpenApi(s: AnySchema): OpenApi {
  const out: OpenApi = { description: s.description, ...s.own };
  if (s.default !== undefined) out.default = s.default;
  if (s.kind === 'object' && s.fields) {
    const props: Record<string, OpenApi> = {};
    const required: string[] = [];
    for (const [k, f] of Object.entries(s.fields)) {
      props[k] = toOpenApi(f);
      if (f.required) required.push(k);
    }
    out.properties = props;
    if (required.length > 0) out.required = required;
  }
  if (s.kind === 'array' && s.items) out.items = toOpenApi(s.items);
  if (s.kind === 'map' && s.items) out.additionalProperties = toOpenApi(s.items);
  if (s.validations.length > 0) {
    out['x-kubernetes-validations'] = s.validations.map((v) => ({ rule: v.rule, message: v.message }));
  }
  return out;
}

/**
 * Applies schema defaults the way the API server does: a missing field with a
 * default gets it, then defaulting recurses into objects, arrays and maps.
 * Used where objects did not pass through an API server (unit tests, docs).
 */
export function applyDefaults<S extends AnySchema>(s: S, value: unknown): unknown {
  let v = value;
  if (v === undefined && s.default !== undefined) v = structuredClone(s.default);
  if (v === undefined || v === null) return v;
  if (s.kind === 'object' && s.fields && typeof v === 'object' && !Array.isArray(v)) {
    const obj: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const [k, f] of Object.entries(s.fields)) {
      const child = applyDefaults(f, obj[k]);
      if (child !== undefined) obj[k] = child;
    }
    return obj;
  }
  if (s.kind === 'array' && s.items && Array.isArray(v)) {
    const items = s.items;
    return v.map((x) => applyDefaults(items, x));
  }
  if (s.kind === 'map' && s.items && typeof v === 'object') {
    const items = s.items;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, applyDefaults(items, x)]),
    );
  }
  return v;
}

/** One row per field, depth first, for generated reference docs. */
export interface FieldDoc {
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
  constraints: string[];
  validations: readonly Rule[];
}

function typeName(s: AnySchema): string {
  switch (s.kind) {
    case 'array':
      return s.items ? `[]${typeName(s.items)}` : '[]';
    case 'map':
      return s.items ? `map[string]${typeName(s.items)}` : 'map';
    case 'raw': {
      if (s.own['x-kubernetes-int-or-string']) return 'int-or-string';
      return String(s.own.type ?? 'any');
    }
    default:
      return s.kind;
  }
}

function constraintsOf(s: AnySchema): string[] {
  const c: string[] = [];
  const o = s.own;
  if (Array.isArray(o.enum)) c.push(`one of: ${o.enum.map((e) => `\`${String(e)}\``).join(', ')}`);
  if (o.pattern !== undefined) c.push(`pattern: \`${String(o.pattern)}\``);
  if (o.minimum !== undefined) c.push(`minimum: ${String(o.minimum)}`);
  if (o.maximum !== undefined) c.push(`maximum: ${String(o.maximum)}`);
  if (o.minLength !== undefined) c.push(`minLength: ${String(o.minLength)}`);
  if (o.maxLength !== undefined) c.push(`maxLength: ${String(o.maxLength)}`);
  if (o.minItems !== undefined) c.push(`minItems: ${String(o.minItems)}`);
  if (o.maxItems !== undefined) c.push(`maxItems: ${String(o.maxItems)}`);
  if (o.format !== undefined) c.push(`format: ${String(o.format)}`);
  if (o['x-kubernetes-list-type'] === 'map') {
    c.push(`list keyed by ${(o['x-kubernetes-list-map-keys'] as string[]).join(', ')}`);
  }
  return c;
}

export function fieldDocs(s: AnySchema, path: string, required = false): FieldDoc[] {
  // Scalar list items have no row of their own: their rules are listed on the list.
  const scalarItems = (s.kind === 'array' || s.kind === 'map') && s.items && s.items.kind !== 'object';
  const item = scalarItems ? s.items : undefined;
  const rows: FieldDoc[] = [
    {
      path,
      type: typeName(s),
      required,
      ...(s.default !== undefined ? { default: s.default } : {}),
      description: s.description,
      constraints: [...constraintsOf(s), ...(item ? constraintsOf(item).map((c) => `each ${c}`) : [])],
      validations: [...s.validations, ...(item?.validations ?? [])],
    },
  ];
  if (s.kind === 'object' && s.fields) {
    for (const [k, f] of Object.entries(s.fields)) rows.push(...fieldDocs(f, `${path}.${k}`, f.required));
  }
  if (s.kind === 'array' && s.items?.kind === 'object')
    rows.push(...fieldDocs(s.items, `${path}[]`).slice(1));
  return rows;
}
