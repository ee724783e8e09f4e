// The /ollama router alone (error handler + a stub session from a header, no
// database, no auth, no request log), for bench/proxy.ts to separate the
// proxy's own cost from the rest of the server's middleware.
// Usage: node bench/proxy-router-only.ts <ollama-url>   (prints its URL)
import { MemoryConfig, startProxyApp } from '../webui/src/server/ollama/test-app.ts';

const ollamaUrl = process.argv[2];
if (ollamaUrl === undefined) {
  console.error('usage: node bench/proxy-router-only.ts <ollama-url>');
  process.exit(2);
}
const app = await startProxyApp(new MemoryConfig({ ollamaBaseUrl: ollamaUrl }));
console.log(`router-only listening on ${app.url}`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
