/**
 * The fake Ollama (test/fake-ollama) for browser tests, answering with a
 * Markdown reply so streaming also exercises the renderer (bold, a code block,
 * a list). Models are found by name rather than hard-coded: normal, slow,
 * stalled, dying and failing.
 */
import { type FakeOllama, startFakeOllama } from '../fake-ollama/fake-ollama.ts';

/** Split into small tokens, as a model would stream them. */
export const REPLY_TOKENS: readonly string[] = [
  'Here',
  ' is',
  ' **some**',
  ' code',
  ':\n\n',
  '```js\n',
  'console',
  '.log(',
  '"hello")',
  ';\n```',
  '\n\nIt',
  ' prints',
  ':\n\n',
  '- `hello`\n',
  '- and',
  ' nothing',
  ' else.',
];

export interface BrowserFakeOllama {
  fake: FakeOllama;
  url: string;
  models: { normal: string; slow: string; stalled?: string; dying?: string; failing?: string };
  stop: () => Promise<void>;
}

export async function startBrowserFakeOllama(): Promise<BrowserFakeOllama> {
  const fake = await startFakeOllama({ host: '127.0.0.1', tokens: REPLY_TOKENS, slowTokenDelayMs: 150 });
  const names = fake.modelNames();
  const find = (word: string) => names.find((n) => n.toLowerCase().includes(word));
  const slow = find('slow');
  const normal = names.find((n) => !/slow|stall|fail|hang|dying|embed/i.test(n));
  if (!normal || !slow) {
    await fake.close();
    throw new Error(`fake Ollama lacks a normal and a slow model: ${names.join(', ')}`);
  }
  return {
    fake,
    url: fake.url.replace(/\/$/, ''),
    models: { normal, slow, stalled: find('stall'), dying: find('dying'), failing: find('fail') },
    stop: () => fake.close(),
  };
}
