/**
 * Runs the fake Ollama CLI (`node test/fake-ollama/main.ts --port N`) as its
 * own process and finds its models by name, so the tests do not hard-code the
 * fake's model list: the normal, slow, stalled and failing models.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort, ROOT } from './harness.ts';

export interface FakeOllama {
  url: string;
  models: { normal: string; slow: string; stalled?: string; failing?: string };
  stop: () => Promise<void>;
}

export async function startFakeOllamaProcess(): Promise<FakeOllama> {
  const port = await freePort();
  const script = process.env.FAKE_OLLAMA_SCRIPT ?? path.join(ROOT, 'test/fake-ollama/main.ts');
  const child = spawn(process.execPath, [script, '--port', String(port)], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  let names: string[] = [];
  for (;;) {
    try {
      const res = await fetch(`${url}/api/tags`);
      if (res.ok) {
        const body = (await res.json()) as { models?: { name: string }[] };
        names = (body.models ?? []).map((m) => m.name);
        break;
      }
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`fake Ollama did not start (${script}):\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const find = (word: string) => names.find((n) => n.toLowerCase().includes(word));
  const slow = find('slow');
  const stalled = find('stall');
  const failing = find('fail');
  const normal = names.find((n) => n !== slow && n !== stalled && n !== failing);
  if (!normal || !slow) {
    await stop();
    throw new Error(`fake Ollama lacks a normal and a slow model: ${names.join(', ')}`);
  }
  return { url, models: { normal, slow, stalled, failing }, stop };
}
