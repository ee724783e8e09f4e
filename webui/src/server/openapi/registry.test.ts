import { describe, expect, it } from 'vitest';
import { RouteRegistry } from './registry.ts';
import { StatusTrue } from './responses.ts';

describe('RouteRegistry.methodsAt', () => {
  const registry = new RouteRegistry();
  const routes = [
    ['get', '/ollama'],
    ['get', '/api/v1/chats/:id'],
    ['delete', '/api/v1/chats/:id'],
    ['post', '/api/v1/chats/new'],
  ] as const;
  for (const [method, path] of routes) {
    registry.add({ method, path, summary: '', access: 'public', tag: 't', response: { json: StatusTrue } });
  }

  it('lists the methods of every route the path matches, HEAD with GET', () => {
    expect(registry.methodsAt('/api/v1/chats/abc').sort()).toEqual(['DELETE', 'GET', 'HEAD']);
    // `new` is both a literal route and a value of :id, as in Koa.
    expect(registry.methodsAt('/api/v1/chats/new').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'POST']);
    expect(registry.methodsAt('/ollama/').sort()).toEqual(['GET', 'HEAD']);
  });

  it('is empty for paths no route has, including a parameter that would span segments', () => {
    expect(registry.methodsAt('/api/v1/chats')).toEqual([]);
    expect(registry.methodsAt('/api/v1/chats/a/b')).toEqual([]);
    expect(registry.methodsAt('/ollamax')).toEqual([]);
  });
});
