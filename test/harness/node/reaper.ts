// The node's last line of defence: a small detached process that waits for the process that started
// the node to die, then undoes every host change in the journal. It covers the one case no exit hook
// can: the test runner or `make dev-cluster` killed with SIGKILL. When the node stops normally the
// journal is removed and the reaper exits by itself.
//
// Started by cluster.ts as: WEBUI_DEV_NODE_ROOT=<root> node test/harness/node/reaper.ts
import { isOwnerAlive, readJournal, undoHostChanges } from './host.ts';

const root = process.env.WEBUI_DEV_NODE_ROOT;
if (!root) {
  console.error('reaper: WEBUI_DEV_NODE_ROOT is not set');
  process.exit(2);
}

for (;;) {
  const journal = readJournal(root);
  if (!journal) process.exit(0);
  if (!isOwnerAlive(journal.owner)) {
    console.log(`reaper: pid ${journal.owner.pid} is gone; undoing the node's host changes under ${root}`);
    const report = undoHostChanges(journal);
    console.log(
      `reaper: killed ${report.killed} processes${report.errors.length ? `; problems: ${report.errors.join('; ')}` : ''}`,
    );
    process.exit(report.errors.length ? 1 : 0);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
