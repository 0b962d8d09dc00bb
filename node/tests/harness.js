'use strict';
/*
 * harness.js: a real warden of this build (WARDEN_BIN_DIR) in a temporary
 * folder of its own, with its own configuration, table, socket and state.
 * start() returns once warden said READY=1 (bin/tests/notify-wait holds
 * the NOTIFY_SOCKET); waitLine() waits for a line of warden's log (the
 * workers' output comes through it). Every wait is on the event itself,
 * with a bound that only fails the test. stop() SIGKILLs warden and
 * removes its table and folder.
 */
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const BIN = process.env.WARDEN_BIN_DIR || path.join(__dirname, '..', '..', 'bin');
const BOUND_MS = 10000;

/* p, or a rejection naming what after ms. */
function bounded(p, ms, what) {
  let timer;
  const t = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

class Warden {
  /* conf: the configuration's keys beyond socket, state_dir and table. */
  constructor(conf) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-node.'));
    this.table = `/warden-nodetest-${process.pid}-${path.basename(this.dir).split('.').pop()}`;
    this.sock = path.join(this.dir, 'warden.sock');
    this.conf = {
      socket: this.sock, state_dir: path.join(this.dir, 'state'), table: this.table, ...conf,
    };
    this.lines = [];
    this.waiters = [];
    this.proc = null;
  }

  file(name, text) {
    const p = path.join(this.dir, name);
    fs.writeFileSync(p, text);
    return p;
  }

  async start() {
    const confPath = this.file('warden.json', JSON.stringify(this.conf));
    const notify = path.join(this.dir, 'notify');
    const nw = spawn(path.join(BIN, 'tests', 'notify-wait'), [notify, String(BOUND_MS)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = new Promise((resolve, reject) => {
      nw.on('error', reject);
      nw.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`notify-wait: exit ${code}`))));
    });
    await bounded(new Promise((resolve, reject) => {
      nw.stdout.once('data', resolve);
      nw.on('error', reject);
    }), BOUND_MS, 'notify-wait bound');
    const env = { ...process.env, NOTIFY_SOCKET: notify };
    for (const k of ['WARDEN_TABLE', 'WARDEN_TABLE_FD', 'LISTEN_PID', 'LISTEN_FDS']) delete env[k];
    this.proc = spawn(path.join(BIN, 'warden'), ['-c', confPath],
      { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    readline.createInterface({ input: this.proc.stderr }).on('line', (l) => this._line(l));
    await bounded(ready, BOUND_MS + 1000, 'READY=1 from warden');
  }

  _line(line) {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => !(w.re.test(line) && (w.resolve(line), true)));
  }

  /* The first line of warden's log from now on (or already seen) matching re. */
  waitLine(re, { since = 0 } = {}) {
    const old = this.lines.slice(since).find((l) => re.test(l));
    if (old !== undefined) return Promise.resolve(old);
    const p = new Promise((resolve) => this.waiters.push({ re, resolve }));
    return bounded(p, BOUND_MS, `a line matching ${re} in warden's log`);
  }

  /* wardenctl -S SOCK args...: its stdout; a failure rejects. */
  ctl(...args) {
    return new Promise((resolve, reject) => {
      execFile(path.join(BIN, 'wardenctl'), ['-S', this.sock, ...args],
        { timeout: BOUND_MS }, (err, stdout, stderr) => {
          if (err) reject(new Error(`wardenctl ${args.join(' ')}: ${err.message}: ${stderr}`));
          else resolve(stdout);
        });
    });
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await bounded(this.exited, BOUND_MS, 'warden to die');
    }
    fs.rmSync(`/dev/shm${this.table}`, { force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/* murmur3_x86_32, the hash of warden's rollouts (libwarden(3)). */
function murmur3(data, seed = 0) {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const n = data.length & ~3;
  let k;
  for (let i = 0; i < n; i += 4) {
    k = data.readUInt32LE(i);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  k = 0;
  for (let j = data.length - 1; j >= n; j--) k = (k << 8) | data[j];
  if (data.length > n) {
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

module.exports = { Warden, bounded, murmur3, BIN, BOUND_MS };
