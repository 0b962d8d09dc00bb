'use strict';
/*
 * What the package does without its library or its addon, and that the
 * provider's timer never keeps a process alive: each case in a node
 * process of its own, with its own environment.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { BOUND_MS } = require('./harness.js');

const TOP = path.join(__dirname, '..');

/* node -e code in TOP with env on top of ours: { code, stdout, stderr }. */
function run(code, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', code], { cwd: TOP, env: { ...process.env, ...env }, timeout: BOUND_MS },
      (err, stdout, stderr) => resolve({ code: err ? err.code || err.signal : 0, stdout, stderr }));
  });
}

const READS = `
const { OpenFeature } = require('@openfeature/server-sdk');
const w = require('.');
(async () => {
  await OpenFeature.setProviderAndWait(new w.WardenProvider());
  const d = await OpenFeature.getClient().getBooleanDetails('f', true);
  const t = w.open();
  console.log(JSON.stringify([w.loadError !== null, d.value, d.reason, d.errorCode, d.errorMessage,
    t.state(), t.enabled('f', true), t.enabled('f'), t.enabledFor('f', 'i', true), t.stage()]));
  try { t.enabled(null); } catch (e) { console.log(e.name); }
})();
`;

test('no library: loadError says why, every answer the default', async () => {
  const r = await run(READS, { WARDEN_LIBRARY: '/nonexistent/libwarden.so.0' });
  assert.equal(r.code, 0, r.stderr);
  const [lines, typeError] = r.stdout.trim().split('\n');
  const got = JSON.parse(lines);
  assert.deepEqual(got.slice(0, 4), [true, true, 'ERROR', 'GENERAL']);
  assert.match(got[4], /libwarden not loaded \(\/nonexistent\/libwarden\.so\.0: /);
  assert.deepEqual(got.slice(5), [0, true, false, true, -1]);
  assert.equal(typeError, 'TypeError');
});

test('not a library, or not libwarden: loadError names the file', async () => {
  for (const lib of ['/etc/passwd', '/lib/x86_64-linux-gnu/libc.so.6', '']) {
    const r = await run(`const w = require('.'); console.log(w.loadError, w.open().enabled('f', true));`,
      { WARDEN_LIBRARY: lib });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.endsWith(' true\n'), r.stdout);
    if (lib !== '') assert.ok(r.stdout.startsWith(`${lib}: `), r.stdout);
  }
});

test('no addon: loadError says why, every answer the default', async () => {
  const r = await run(READS, { WARDEN_NODE_ADDON: '/nonexistent/warden.node' });
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n')[0]);
  assert.deepEqual(got.slice(0, 4), [true, true, 'ERROR', 'GENERAL']);
  assert.match(got[4], /\/nonexistent\/warden\.node: /);
  assert.deepEqual(got.slice(5), [0, true, false, true, -1]);
});

test('the poll timer keeps no process alive; onClose stops it', async () => {
  const r = await run(`
const { OpenFeature } = require('@openfeature/server-sdk');
const { WardenProvider } = require('.');
const p = new WardenProvider({ table: '/warden-nodetest-exit-${process.pid}', pollMs: 5 });
OpenFeature.setProviderAndWait(p).then(() => {
  console.log('ready', p._timer !== null);
  process.on('exit', () => console.log('exit'));
  return OpenFeature.close();
}).then(() => console.log('closed', p._timer === null, p._table === null));
`, {});
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'ready true\nclosed true true\nexit\n');
  const alive = await run(`
const { OpenFeature } = require('@openfeature/server-sdk');
const { WardenProvider } = require('.');
OpenFeature.setProviderAndWait(new WardenProvider({ pollMs: 5 })).then(() => console.log('ready'));
`, {});
  assert.deepEqual([alive.code, alive.stdout], [0, 'ready\n'], alive.stderr);
});
