// Nest log lines of a passing test are noise in the report; those of a failing test are the first
// thing to read. Test code logs into `__kanbanHeldLogs` (see held-logger.ts); this environment
// empties it as each test starts and prints it only when the test or a hook failed.
const { TestEnvironment } = require('jest-environment-node');

class HeldLogsEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__kanbanHeldLogs = [];
  }

  handleTestEvent(event) {
    const held = this.global.__kanbanHeldLogs;
    if (event.name === 'test_start' || event.name === 'hook_start') {
      if (event.name === 'test_start') held.length = 0;
      return;
    }
    const failed = (event.name === 'test_done' && event.test.errors.length > 0) || event.name === 'hook_failure';
    if (failed && held.length > 0) {
      const title = event.test ? event.test.name : `${event.hook.type} hook`;
      process.stderr.write(`\n--- Nest log of the failed "${title}" ---\n${held.join('\n')}\n--- end of log ---\n`);
    }
    if (event.name === 'test_done') held.length = 0;
  }
}

module.exports = HeldLogsEnvironment;
