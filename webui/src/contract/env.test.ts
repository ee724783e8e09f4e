import { describe, expect, it } from 'vitest';
import { checkOllamaApiConfigs, EnvError, formatEnv, normalizeBasePath, readEnv } from './env.ts';

describe('defaults (issue 3 and Open WebUI)', () => {
  it('serve on 0.0.0.0:8080 with SQLite under ./data, 4w sessions, pending new users, local Ollama', () => {
    expect(readEnv({})).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      dataDir: './data',
      databaseUrl: undefined,
      corsAllowOrigin: [],
      jwtExpiresIn: '4w',
      defaultUserRole: 'pending',
      enableSignup: true,
      enablePersistentConfig: true,
      resetConfigOnStart: false,
      configResetToken: undefined,
      managedSettings: [],
      ollamaBaseUrl: 'http://localhost:11434',
      ollamaBaseUrls: [],
    });
    expect(readEnv({ PORT: '3000', HOST: '127.0.0.1' })).toMatchObject({ port: 3000, host: '127.0.0.1' });
  });

  it('split OLLAMA_BASE_URLS and CORS_ALLOW_ORIGIN on ";"', () => {
    const env = readEnv({
      OLLAMA_BASE_URLS: 'http://a:11434;http://b:11434',
      CORS_ALLOW_ORIGIN: 'http://localhost:5173;https://app.example.com',
    });
    expect(env.ollamaBaseUrls).toEqual(['http://a:11434', 'http://b:11434']);
    expect(env.corsAllowOrigin).toEqual(['http://localhost:5173', 'https://app.example.com']);
  });
});

describe('Ollama timeouts (AIOHTTP_CLIENT_*)', () => {
  it('default to 300 s for a whole response, 10 s for model lists, 5 s to connect, no idle limit', () => {
    const env = readEnv({});
    expect(env.clientTimeout).toBe(300);
    expect(env.modelListTimeout).toBe(10);
    expect(env.connectTimeout).toBe(5);
    expect(env.streamIdleTimeout).toBeNull();
  });

  it('read seconds, and an empty value or any spelling of 0 as no limit', () => {
    expect(readEnv({ AIOHTTP_CLIENT_TIMEOUT: '42.5' }).clientTimeout).toBe(42.5);
    for (const raw of ['', ' ', '0', '00', '0.0'])
      expect(readEnv({ AIOHTTP_CLIENT_TIMEOUT: raw }).clientTimeout, raw).toBeNull();
    expect(readEnv({ AIOHTTP_CLIENT_STREAM_IDLE_TIMEOUT: '30' }).streamIdleTimeout).toBe(30);
  });

  it.each([
    'AIOHTTP_CLIENT_TIMEOUT',
    'AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST',
    'AIOHTTP_CLIENT_STREAM_IDLE_TIMEOUT',
    'AIOHTTP_CLIENT_CONNECT_TIMEOUT',
  ])('%s: a value that does not parse is an error naming the variable, not a fallback', (name) => {
    for (const raw of ['5m', 'abc', '-1', '1e3']) {
      const err = (() => {
        try {
          readEnv({ [name]: raw });
        } catch (e) {
          return e;
        }
      })();
      expect(err, raw).toBeInstanceOf(EnvError);
      expect((err as Error).message).toMatch(new RegExp(`^${name}: expected a number of seconds`));
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('format "no limit" so the server reads it back as no limit', () => {
    const out = formatEnv({ clientTimeout: null, modelListTimeout: 10 });
    expect(out).toEqual({ AIOHTTP_CLIENT_TIMEOUT: '0', AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST: '10' });
    expect(readEnv(out)).toMatchObject({ clientTimeout: null, modelListTimeout: 10 });
  });
});

describe('LOG_LEVEL', () => {
  it('defaults to info and refuses an unknown level', () => {
    expect(readEnv({}).logLevel).toBe('info');
    expect(readEnv({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(() => readEnv({ LOG_LEVEL: 'verbose' })).toThrow(/^LOG_LEVEL: /);
  });
});

describe('WEBUI_BASE_PATH', () => {
  it('defaults to the root and normalizes a prefix to no trailing slash', () => {
    expect(readEnv({}).basePath).toBe('');
    expect(readEnv({ WEBUI_BASE_PATH: '/' }).basePath).toBe('');
    expect(readEnv({ WEBUI_BASE_PATH: ' /chat/ ' }).basePath).toBe('/chat');
    expect(readEnv({ WEBUI_BASE_PATH: '/team-a/chat.v2' }).basePath).toBe('/team-a/chat.v2');
    expect(normalizeBasePath('/x/y/')).toBe('/x/y');
  });

  it('refuses what is not a plain path, naming the variable', () => {
    for (const bad of ['chat', '/chat//x', '/a b', '/../etc', '/x/./y', '/chat?x=1', '/(.*)']) {
      expect(() => readEnv({ WEBUI_BASE_PATH: bad }), bad).toThrow(/^WEBUI_BASE_PATH: expected a path/);
    }
  });
});

describe('OLLAMA_API_CONFIGS', () => {
  it("keeps Open WebUI's per-connection model settings and refuses wrong types, naming the entry", () => {
    const cfg = {
      '0': { prefix_id: 'gpu', model_ids: ['llama3.2'], tags: [{ name: 'fast' }], connection_type: 'local' },
    };
    expect(checkOllamaApiConfigs(cfg)).toEqual(cfg);
    expect(() => checkOllamaApiConfigs({ '1': { model_ids: 'llama3.2' } })).toThrow(
      'entry "1": model_ids must be a list of model names',
    );
    expect(() => checkOllamaApiConfigs({ '0': { prefix_id: 7 } })).toThrow(
      'entry "0": prefix_id must be a string',
    );
    expect(() => checkOllamaApiConfigs({ '0': { tags: 'fast' } })).toThrow('entry "0": tags must be a list');
  });
});
