#!/usr/bin/env node
/** Entry point: `webui-operator [flags]`. See operator/src/config.ts or --help for the settings. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packagedDefaultImage, parseSettings, SettingError, USAGE } from '../src/config.ts';
import { runOperator } from '../src/main.ts';

/** Set by the bundle's banner (operator/scripts/build-operator.ts); the sources sit two levels down. */
declare const __OPERATOR_APP_ROOT__: string | undefined;
const root =
  typeof __OPERATOR_APP_ROOT__ === 'string'
    ? fileURLToPath(__OPERATOR_APP_ROOT__)
    : join(dirname(fileURLToPath(import.meta.url)), '..', '..');

process.on('unhandledRejection', (e) => {
  console.error(
    `webui-operator: unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
  );
  process.exit(1);
});

try {
  const settings = parseSettings(process.argv.slice(2), process.env, {
    defaultImage: packagedDefaultImage(root),
  });
  if (settings === 'help') process.stdout.write(`${USAGE}\n`);
  else await runOperator(settings);
} catch (e) {
  const msg = e instanceof SettingError || e instanceof Error ? e.message : String(e);
  console.error(`webui-operator: ${msg.split('\n')[0]}`);
  process.exit(2);
}
