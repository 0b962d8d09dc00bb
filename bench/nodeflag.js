#!/usr/bin/env node
'use strict';
/*
 * nodeflag: nanoseconds per flag read from Node.js, through the raw
 * handle of warden-openfeature (the addon over libwarden) and through
 * OpenFeature with WardenProvider.
 *
 *	bench/nodeflag.js [-T TABLE] [-f FLAG] [-R ROLLOUT_FLAG] [-n READS] [-r RUNS]
 *
 * Prints one line of key=value, each the median over RUNS runs of READS
 * reads, in ns: raw (t.enabled(FLAG)), raw_for (t.enabledFor(ROLLOUT,
 * id)), addon (the addon's enabled() called directly), nop (an addon call
 * that takes the same arguments and does nothing: the floor of any addon
 * call), map (a JavaScript Map lookup), of (await
 * client.getBooleanValue(FLAG)), of_for (with a targetingKey),
 * of_noop (the same call on a client whose domain has no provider: the
 * SDK's own floor, its hooks and promises around a provider that does
 * nothing), of_resolve (await the provider's resolveBooleanEvaluation,
 * no SDK); the ratios raw/nop, of/raw and of/of_noop; the handle's state
 * (1: attached). The
 * package, its addon and libwarden come from the environment
 * (WARDEN_NODE_ADDON, WARDEN_LIBRARY); bench/compare sets them.
 */
const path = require('node:path');
const { OpenFeature } = require(path.join(__dirname, '..', 'node', 'node_modules',
  '@openfeature', 'server-sdk'));
const w = require(path.join(__dirname, '..', 'node'));
const { addon } = require(path.join(__dirname, '..', 'node', 'lib', 'table.js'));

function args() {
  const a = { table: null, flag: 'fa', rollout: 'half', reads: 200000, runs: 11 };
  const keys = { '-T': 'table', '-f': 'flag', '-R': 'rollout', '-n': 'reads', '-r': 'runs' };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = keys[v[i]];
    if (!k || i + 1 >= v.length) {
      console.error('usage: nodeflag.js [-T TABLE] [-f FLAG] [-R ROLLOUT_FLAG] [-n READS] [-r RUNS]');
      process.exit(2);
    }
    a[k] = k === 'reads' || k === 'runs' ? Number(v[i + 1]) : v[i + 1];
  }
  return a;
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1];
}

/* The median ns per call of fn over runs runs of n calls; sink keeps results live. */
let sink = 0;
function syncNs(fn, n, runs) {
  const out = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += fn() ? 1 : 0;
    out.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return median(out);
}

async function asyncNs(fn, n, runs) {
  const out = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += (await fn()) ? 1 : 0;
    out.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return median(out);
}

async function main() {
  const a = args();
  if (w.loadError !== null) throw new Error(`nodeflag: ${w.loadError}`);
  const t = w.open(a.table);
  const h = t._h;
  const map = new Map([[a.flag, true], ['other', false]]);
  const provider = new w.WardenProvider({ table: a.table });
  await OpenFeature.setProviderAndWait('nodeflag', provider);
  const client = OpenFeature.getClient('nodeflag');
  const noop = OpenFeature.getClient('nodeflag-noop');   // the SDK's no-op provider
  const ctx = { targetingKey: 'user-42' };
  const n = a.reads;
  const r = {};
  r.raw = syncNs(() => t.enabled(a.flag), n, a.runs);
  r.raw_for = syncNs(() => t.enabledFor(a.rollout, 'user-42'), n, a.runs);
  r.addon = syncNs(() => addon.enabled(h, a.flag, false), n, a.runs);
  r.nop = syncNs(() => addon.nop(h, a.flag, false), n, a.runs);
  r.map = syncNs(() => map.get(a.flag), n, a.runs);
  // The SDK's evaluations are slower: a tenth of the reads.
  const m = Math.max(1, Math.floor(n / 10));
  r.of = await asyncNs(() => client.getBooleanValue(a.flag, false), m, a.runs);
  r.of_for = await asyncNs(() => client.getBooleanValue(a.rollout, false, ctx), m, a.runs);
  r.of_noop = await asyncNs(() => noop.getBooleanValue(a.flag, false), m, a.runs);
  r.of_resolve = await asyncNs(async () => (await provider.resolveBooleanEvaluation(a.flag, false, {})).value,
    m, a.runs);
  const line = Object.entries(r).map(([k, v]) => `${k}=${v.toFixed(1)}`);
  line.push(`ratio_nop=${(r.raw / r.nop).toFixed(2)}`, `ratio_of=${(r.of / r.raw).toFixed(1)}`,
    `ratio_of_noop=${(r.of / r.of_noop).toFixed(2)}`,
    `state=${t.state()}`, `sink=${sink > 0 ? 1 : 0}`);
  console.log(line.join(' '));
  await OpenFeature.close();
  t.close();
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
