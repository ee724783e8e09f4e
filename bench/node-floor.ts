// The least a Node reverse proxy can add: node:http in, node:http out with a keep-alive agent, the
// request piped up and the answer piped down, nothing else (no framework, auth, validation or log).
// bench/latency.ts runs it with the launcher's V8 flags as the floor of what any Node hop costs, next
// to nginx's. Not a product: it forwards every request to one upstream.
//
// Usage: node [flags] bench/node-floor.ts <upstream-url> <port>
import http from 'node:http';

const [upstreamArg, portArg] = process.argv.slice(2);
if (upstreamArg === undefined || portArg === undefined) {
  console.error('usage: node bench/node-floor.ts <upstream-url> <port>');
  process.exit(2);
}
const upstream = new URL(upstreamArg);
const agent = new http.Agent({ keepAlive: true });
const server = http.createServer((req, res) => {
  const up = http.request(
    {
      hostname: upstream.hostname,
      port: upstream.port,
      path: (req.url ?? '/').replace(/^\/ollama/, ''),
      method: req.method,
      headers: { ...req.headers, host: upstream.host },
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  up.on('error', () => res.destroy());
  req.pipe(up);
});
server.listen(Number(portArg), '127.0.0.1', () => console.log(`node-floor listening on ${portArg}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
