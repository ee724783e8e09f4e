// Issue 14, finding 3 (operator half): every rendered WebUI container has a memory limit, and the
// Node heap cap (NODE_OPTIONS --max-old-space-size) is matched to it, so V8 collects before the
// container's limit instead of letting garbage pile up until the kernel's OOM killer ends the pod.
import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { NODE_OPTIONS_ENV } from '#contract';
import { renderBackend } from './backend.ts';
import { renderFrontend } from './frontend.ts';
import { DEFAULT_RESOURCES, heapCapMiB } from './memory.ts';
import { base, container, ctx, webui } from './testing/fixtures.ts';

const render = { backend: renderBackend, frontend: renderFrontend } as const;

function nodeOptions(c: V1Container): string | undefined {
  return c.env?.find((e) => e.name === NODE_OPTIONS_ENV)?.value;
}

describe('memory limits and the heap cap', () => {
  for (const component of ['backend', 'frontend'] as const) {
    it(`${component}: a default memory limit and request, and a heap cap of half the limit`, () => {
      const c = container(render[component](webui(base), ctx));
      const def = DEFAULT_RESOURCES[component];
      expect(c.resources).toEqual({
        requests: { memory: def.requests.memory },
        limits: { memory: def.limits.memory },
      });
      expect(nodeOptions(c)).toBe(`--max-old-space-size=${heapCapMiB(def.limits.memory)}`);
    });

    it(`${component}: spec.${component}.resources overrides the default, and the heap cap follows`, () => {
      const spec = {
        ...base,
        [component]: { resources: { limits: { memory: '1Gi', cpu: '2' }, requests: { cpu: '100m' } } },
      };
      const c = container(render[component](webui(spec), ctx));
      expect(c.resources?.limits).toEqual({ memory: '1Gi', cpu: '2' });
      expect(c.resources?.requests).toEqual({
        memory: DEFAULT_RESOURCES[component].requests.memory,
        cpu: '100m',
      });
      expect(nodeOptions(c)).toBe('--max-old-space-size=512');
    });
  }

  it('never renders a request above the limit, or a limit below the request', () => {
    const small = container(
      renderBackend(webui({ ...base, backend: { resources: { limits: { memory: '100Mi' } } } }), ctx),
    );
    expect(small.resources).toEqual({ requests: { memory: '100Mi' }, limits: { memory: '100Mi' } });
    const big = container(
      renderBackend(webui({ ...base, backend: { resources: { requests: { memory: '2Gi' } } } }), ctx),
    );
    expect(big.resources).toEqual({ requests: { memory: '2Gi' }, limits: { memory: '2Gi' } });
    expect(nodeOptions(big)).toBe('--max-old-space-size=1024');
  });

  it('reads every quantity spelling, and keeps a floor', () => {
    expect(heapCapMiB('512Mi')).toBe(256);
    expect(heapCapMiB('0.5Gi')).toBe(256);
    expect(heapCapMiB('536870912')).toBe(256);
    expect(heapCapMiB(536870912)).toBe(256);
    expect(heapCapMiB('500M')).toBe(238);
    expect(heapCapMiB('32Mi')).toBe(32);
  });

  it('leaves NODE_OPTIONS to spec.extraEnv when it sets it', () => {
    const c = container(
      renderBackend(
        webui({ ...base, extraEnv: [{ name: NODE_OPTIONS_ENV, value: '--max-old-space-size=900' }] }),
        ctx,
      ),
    );
    expect(c.env?.filter((e) => e.name === NODE_OPTIONS_ENV)).toEqual([
      { name: NODE_OPTIONS_ENV, value: '--max-old-space-size=900' },
    ]);
  });
});
