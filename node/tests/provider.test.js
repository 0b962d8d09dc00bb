'use strict';
/*
 * WardenProvider through the OpenFeature API, against the real warden of
 * this build: each test starts its own warden (harness.js) with its own
 * table, drives it with wardenctl and checks what OpenFeature answers.
 * Waits are on the event itself (PROVIDER_CONFIGURATION_CHANGED, a line
 * in warden's log), bounded; warden is SIGKILLed at the end of each.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { OpenFeature, ProviderEvents, ErrorCode } = require('@openfeature/server-sdk');
const { WardenProvider, open, ATTACHED, NO_TABLE, loadError } = require('..');
const { Warden, bounded, murmur3, BOUND_MS } = require('./harness.js');

const FLAGS = {
  flags: { feat: { default: true }, later: { default: false }, roll: { default: false } },
  stages: [{ stage: 1, enable: ['later'] }],
};

let domains = 0;

/* A warden, and an OpenFeature client of a domain of its own on its table. */
async function setup(t, { conf = {}, pollMs = 10 } = {}) {
  const w = new Warden({
    ...FLAGS, supervisor: { name: 'root', children: [] }, ...conf,
  });
  t.after(() => w.stop());
  await w.start();
  const domain = `warden-test-${++domains}`;
  const provider = new WardenProvider({ table: w.table, pollMs });
  await OpenFeature.setProviderAndWait(domain, provider);
  t.after(() => provider.onClose());
  return { w, provider, client: OpenFeature.getClient(domain) };
}

/* The next PROVIDER_CONFIGURATION_CHANGED of client, bounded. */
function nextChange(client) {
  return bounded(new Promise((resolve) => {
    const h = (details) => {
      client.removeHandler(ProviderEvents.ConfigurationChanged, h);
      resolve(details);
    };
    client.addHandler(ProviderEvents.ConfigurationChanged, h);
  }), BOUND_MS, 'PROVIDER_CONFIGURATION_CHANGED');
}

test('the addon and libwarden of this build are loaded', () => {
  assert.equal(loadError, null);
});

test('values and reasons from the live table', async (t) => {
  const { client, provider } = await setup(t);
  let d = await client.getBooleanDetails('feat', false);
  assert.equal(d.value, true);
  assert.equal(d.reason, 'STATIC');
  assert.equal(d.variant, 'on');
  assert.equal(d.flagMetadata.stage, 0);
  assert.equal(d.errorCode, undefined);
  d = await client.getBooleanDetails('later', true);
  assert.deepEqual([d.value, d.reason, d.variant], [false, 'STATIC', 'off']);
  // A flag that is not in the table: the default, FLAG_NOT_FOUND.
  d = await client.getBooleanDetails('nosuchflag', true);
  assert.deepEqual([d.value, d.reason, d.errorCode], [true, 'ERROR', ErrorCode.FLAG_NOT_FOUND]);
  assert.match(d.errorMessage, /no flag "nosuchflag"/);
  const r = await provider.resolveBooleanEvaluation('nosuchflag', false, {});
  assert.deepEqual([r.value, r.reason, r.errorCode], [false, 'DEFAULT', ErrorCode.FLAG_NOT_FOUND]);
  // The one number: the stage. Other types: TYPE_MISMATCH, the default.
  d = await client.getNumberDetails('stage', -1);
  assert.deepEqual([d.value, d.reason], [0, 'STATIC']);
  d = await client.getNumberDetails('feat', 7);
  assert.deepEqual([d.value, d.reason, d.errorCode], [7, 'ERROR', ErrorCode.TYPE_MISMATCH]);
  d = await client.getStringDetails('feat', 'x');
  assert.deepEqual([d.value, d.errorCode], ['x', ErrorCode.TYPE_MISMATCH]);
  d = await client.getObjectDetails('feat', { a: 1 });
  assert.deepEqual([d.value, d.errorCode], [{ a: 1 }, ErrorCode.TYPE_MISMATCH]);
  assert.equal(provider.metadata.name, 'warden');
  assert.equal(provider.runsOn, 'server');
});

test('PROVIDER_CONFIGURATION_CHANGED after each change warden publishes', async (t) => {
  const { w, client } = await setup(t);
  let changed = nextChange(client);
  await w.ctl('flag', 'set', 'feat', 'off');
  const ev = await changed;
  assert.ok(ev.metadata.generation > ev.metadata.previous);
  assert.equal(await client.getBooleanValue('feat', true), false);
  changed = nextChange(client);
  await w.ctl('stage', 'set', '1', '-m', 'test');
  await changed;
  assert.equal(await client.getNumberValue('stage', -1), 1);
  const d = await client.getBooleanDetails('later', false);
  assert.deepEqual([d.value, d.reason, d.flagMetadata.stage], [true, 'STATIC', 1]);
});

test('the change is seen at an evaluation too, before the timer', async (t) => {
  // A poll of an hour: only the evaluation can notice.
  const { w, client, provider } = await setup(t, { pollMs: 3600000 });
  const changed = nextChange(client);
  await w.ctl('flag', 'set', 'feat', 'off');
  const r = await provider.resolveBooleanEvaluation('feat', true, {});
  assert.equal(r.value, false);
  await changed;
});

test('a rollout percentage: SPLIT, the id bucketed as the C library does', async (t) => {
  const { w, client } = await setup(t);
  const changed = nextChange(client);
  await w.ctl('flag', 'set', 'roll', '30');
  await changed;
  const ids = Array.from({ length: 400 }, (_, i) => `user-${i}`).concat(['', 'é', 'x'.repeat(1000)]);
  let ins = 0;
  for (const id of ids) {
    const d = await client.getBooleanDetails('roll', !false, { targetingKey: id });
    const want = murmur3(Buffer.from(`roll:${id}`)) % 10000 < 3000;
    assert.equal(d.value, want, id);
    assert.equal(d.reason, 'SPLIT');
    assert.equal(d.flagMetadata.rollout, true);
    ins += want;
  }
  assert.ok(ins > 60 && ins < 200, `${ins} of 400 in a 30% rollout`);
  // The C library's own answer: wardenctl flag read.
  for (const id of ids.slice(0, 20)) {
    const out = await w.ctl('flag', 'read', 'roll', id, '--table', w.table);
    const d = await client.getBooleanValue('roll', false, { targetingKey: id });
    assert.ok(out.includes(`roll for ${id}: ${d ? 'on' : 'off'}\n`), out);
  }
  // No id to bucket: off, as warden_enabled answers.
  const d = await client.getBooleanDetails('roll', true);
  assert.deepEqual([d.value, d.reason, d.flagMetadata.rollout], [false, 'STATIC', true]);
  // A flag on or off is the same for every id.
  const f = await client.getBooleanDetails('feat', false, { targetingKey: 'user-1' });
  assert.deepEqual([f.value, f.reason], [true, 'STATIC']);
});

test('no table: ready, and every answer the default with the reason', async (t) => {
  const provider = new WardenProvider({ table: `/warden-nodetest-none-${process.pid}` });
  await OpenFeature.setProviderAndWait('warden-none', provider);
  t.after(() => provider.onClose());
  const client = OpenFeature.getClient('warden-none');
  assert.equal(client.providerStatus, 'READY');
  let d = await client.getBooleanDetails('feat', true);
  assert.deepEqual([d.value, d.reason, d.errorCode], [true, 'ERROR', ErrorCode.GENERAL]);
  assert.match(d.errorMessage, /no table \/warden-nodetest-none-/);
  d = await client.getBooleanDetails('feat', false, { targetingKey: 'u' });
  assert.deepEqual([d.value, d.reason], [false, 'ERROR']);
  d = await client.getNumberDetails('stage', 5);
  assert.deepEqual([d.value, d.reason, d.errorCode], [5, 'ERROR', ErrorCode.GENERAL]);
});

test('ready before warden: defaults, then the table once warden publishes it', async (t) => {
  const w = new Warden({ ...FLAGS, supervisor: { name: 'root', children: [] } });
  t.after(() => w.stop());
  const provider = new WardenProvider({ table: w.table, pollMs: 10 });
  await OpenFeature.setProviderAndWait('warden-later', provider);
  t.after(() => provider.onClose());
  const client = OpenFeature.getClient('warden-later');
  let d = await client.getBooleanDetails('feat', false);
  assert.deepEqual([d.value, d.reason, d.errorCode], [false, 'ERROR', ErrorCode.GENERAL]);
  const changed = nextChange(client);
  await w.start();
  await changed;
  d = await client.getBooleanDetails('feat', false);
  assert.deepEqual([d.value, d.reason], [true, 'STATIC']);
});

test('worker threads read through handles of their own', async (t) => {
  const { w } = await setup(t);
  const { Worker } = require('node:worker_threads');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { open } = require(workerData.pkg);
    const t = open(workerData.table);
    const out = [t.enabled('feat'), t.enabled('later', true), t.stage(), t.state()];
    t.close();
    parentPort.postMessage(out);`;
  const results = await Promise.all([1, 2, 3].map(() => bounded(new Promise((resolve, reject) => {
    const wk = new Worker(code, { eval: true, workerData: { pkg: path.join(__dirname, '..'), table: w.table } });
    wk.once('message', resolve);
    wk.once('error', reject);
  }), BOUND_MS, 'a worker thread\'s read')));
  assert.deepEqual(results, Array(3).fill([true, false, 0, ATTACHED]));
});

test('the table deleted: the last values; then repaired', async (t) => {
  const { w, client } = await setup(t);
  let changed = nextChange(client);
  await w.ctl('stage', 'set', '1', '-m', 'test');
  await changed;
  await w.ctl('table', 'delete');
  assert.equal(await client.getBooleanValue('later', false), true);
  assert.equal(await client.getBooleanValue('feat', false), true);
  assert.equal(await client.getNumberValue('stage', -1), 1);
  const d = await client.getBooleanDetails('later', false);
  assert.equal(d.reason, 'STATIC');
  changed = nextChange(client);
  await w.ctl('flag', 'set', 'feat', 'off');
  await changed;
  assert.equal(await client.getBooleanValue('feat', true), false);
  const h = open(w.table);
  t.after(() => h.close());
  assert.equal(h.state(), ATTACHED);
});

test('a worker warden starts reads its own table, with no table name', async (t) => {
  const script = path.join(__dirname, 'worker.js');
  const w = new Warden({
    ...FLAGS,
    supervisor: { name: 'root', children: [{ name: 'nodeworker', command: [process.execPath, script] }] },
  });
  t.after(() => w.stop());
  await w.start();
  await w.waitLine(/nodeworker.*feat=true reason=STATIC stage=0/);
  const since = w.lines.length;
  await w.ctl('flag', 'set', 'feat', 'off');
  await w.ctl('stage', 'set', '1', '-m', 'test');
  await w.waitLine(/nodeworker.*feat=false reason=STATIC stage=1/, { since });
});

test('bad input', async (t) => {
  const { w, client, provider } = await setup(t);
  for (const bad of [5, {}, ['/x'], true]) {
    assert.throws(() => new WardenProvider({ table: bad }), TypeError);
  }
  for (const bad of [0, -1, 0.5, NaN, Infinity, '100', 2 ** 31, null]) {
    assert.throws(() => new WardenProvider({ pollMs: bad }), RangeError, String(bad));
  }
  assert.throws(() => new WardenProvider('/warden'), TypeError);
  // Names no table holds: the default, never another flag's value.
  for (const name of ['', 'x'.repeat(64), 'feat\0', 'fe\0at', '\udc80', 'feat '.repeat(20000)]) {
    const d = await client.getBooleanDetails(name, false);
    assert.deepEqual([d.value, d.errorCode], [false, ErrorCode.FLAG_NOT_FOUND], JSON.stringify(name).slice(0, 40));
  }
  // A targetingKey that is no id.
  for (const bad of [42, { id: 1 }, 'a\0b']) {
    const d = await client.getBooleanDetails('feat', false, { targetingKey: bad });
    assert.deepEqual([d.value, d.errorCode], [false, ErrorCode.INVALID_CONTEXT]);
  }
  // A flag key of another type, past the SDK: a TypeError, the default.
  await assert.rejects(provider.resolveBooleanEvaluation(7, true, {}), TypeError);
  // The plain handle.
  const h = open(w.table);
  t.after(() => h.close());
  assert.throws(() => open(42), TypeError);
  for (const bad of [null, undefined, 1, {}, ['feat']]) {
    assert.throws(() => h.enabled(bad), TypeError);
    assert.throws(() => h.enabledFor(bad, 'id'), TypeError);
    assert.throws(() => h.enabledFor('feat', bad), TypeError);
  }
  assert.equal(h.enabled('feat'), true);
  assert.equal(h.enabledFor('feat', 'z'.repeat(100000)), true);
  assert.equal(h.enabledFor('feat', 'a\0b', false), false);
  const nul = open('/bad\0name');
  assert.equal(nul.state(), NO_TABLE);
  assert.equal(nul.enabled('feat', true), true);
  nul.close();
  nul.close();
  assert.equal(nul.enabled('feat', true), true);
  assert.equal(nul.stage(), -1);
  const { addon } = require('../lib/table.js');
  assert.throws(() => addon.enabled({}, 'feat', false), TypeError);
  assert.throws(() => addon.enabled(), TypeError);
});
