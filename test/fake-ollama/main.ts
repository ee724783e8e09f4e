/**
 * Runs the fake Ollama in the foreground:
 *   node test/fake-ollama/main.ts --port 11434 [--host 127.0.0.1] [--slow-delay-ms 200]
 * Prints `fake-ollama listening on <url>` once ready (tests wait for that line).
 */
import { parseArgs } from 'node:util';
import { startFakeOllama } from './fake-ollama.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '11434' },
    host: { type: 'string', default: '127.0.0.1' },
    'slow-delay-ms': { type: 'string' },
    'list-delay-ms': { type: 'string' },
    'no-record': { type: 'boolean', default: false },
  },
});

function int(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) {
    console.error(`--${name}: expected a whole number, got "${raw}"`);
    process.exit(2);
  }
  return Number(raw);
}

const slow = int('slow-delay-ms', values['slow-delay-ms']);
const listDelay = int('list-delay-ms', values['list-delay-ms']);
const fake = await startFakeOllama({
  host: values.host,
  port: int('port', values.port) ?? 11434,
  record: !values['no-record'],
  ...(slow !== undefined ? { slowTokenDelayMs: slow } : {}),
  ...(listDelay !== undefined ? { listDelayMs: listDelay } : {}),
});
console.log(`fake-ollama listening on ${fake.url}`);

const stop = () => {
  void fake.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
