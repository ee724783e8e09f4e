import { describe, expect, it } from 'vitest';
import { loopbackHint, placeFrom, readPlaceClues } from './loopback-hint.ts';

describe('where the server runs', () => {
  it('is a pod when Kubernetes set KUBERNETES_SERVICE_HOST, a container with a runtime marker, else a host', () => {
    const none = { kubernetesServiceHost: undefined, dockerenv: false, containerenv: false };
    expect(placeFrom(none)).toBe('host');
    expect(placeFrom({ ...none, dockerenv: true })).toBe('container');
    expect(placeFrom({ ...none, containerenv: true })).toBe('container');
    expect(placeFrom({ ...none, kubernetesServiceHost: '198.18.128.1', dockerenv: true })).toBe('pod');
    expect(placeFrom({ ...none, kubernetesServiceHost: '' })).toBe('host');
  });

  it('reads the clues from the environment and the two marker files', () => {
    const seen: string[] = [];
    const clues = readPlaceClues({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, (p) => {
      seen.push(p);
      return p === '/run/.containerenv';
    });
    expect(clues).toEqual({ kubernetesServiceHost: '10.0.0.1', dockerenv: false, containerenv: true });
    expect(seen.sort()).toEqual(['/.dockerenv', '/run/.containerenv']);
  });
});

describe('loopbackHint', () => {
  const url = 'http://localhost:11434';

  it('on a plain machine: start Ollama or set OLLAMA_BASE_URL (port 11434 is not the WebUI)', () => {
    const hint = loopbackHint(url, { place: 'host', port: 8080 });
    expect(hint).toContain('is Ollama running on this machine? Start it with `ollama serve`');
    expect(hint).toContain('OLLAMA_BASE_URL');
    expect(hint).not.toContain('WebUI server itself');
    expect(hint).not.toContain('host.docker.internal');
  });

  it("in a container: Open WebUI's advice, --network=host or host.docker.internal", () => {
    const hint = loopbackHint(url, { place: 'container', port: 8080 });
    expect(hint).toContain('--network=host');
    expect(hint).toContain('http://host.docker.internal:11434');
    expect(hint).toContain('--add-host=host.docker.internal:host-gateway');
  });

  it("in a pod: the Ollama Service's DNS name", () => {
    expect(loopbackHint(url, { place: 'pod', port: 8080 })).toContain('http://ollama.<namespace>.svc:11434');
  });

  it('"the WebUI server itself" only when the URL is on its own port (80 and 443 when none is written)', () => {
    for (const place of ['host', 'container', 'pod'] as const) {
      expect(loopbackHint('http://127.0.0.1:8080/', { place, port: 8080 })).toContain(
        'this URL points at the WebUI server itself (port 8080)',
      );
    }
    expect(loopbackHint('http://localhost', { place: 'host', port: 80 })).toContain('WebUI server itself');
    expect(loopbackHint('https://localhost', { place: 'host', port: 80 })).not.toContain('itself');
    expect(loopbackHint('http://localhost:8081', { place: 'host', port: 8080 })).not.toContain('itself');
  });

  it('says nothing for a URL that is not loopback', () => {
    expect(loopbackHint('http://ollama.ai.svc:11434', { place: 'pod', port: 11434 })).toBe('');
    expect(loopbackHint('http://[::ffff:7f00:1]:11434', { place: 'pod', port: 8080 })).toContain('Service');
  });
});
