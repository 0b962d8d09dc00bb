'use strict';
/*
 * provider.js: WardenProvider, an OpenFeature server provider over
 * warden's table (warden-node(3)). Every answer comes from libwarden
 * through the addon, in process: no request, no lock, no system call.
 *
 * Booleans are warden's flags. The one number is "stage", warden's
 * migration stage. Strings and objects are no flag of warden's: their
 * evaluations answer TYPE_MISMATCH with the caller's default.
 */
const {
  OpenFeatureEventEmitter, ProviderEvents, ErrorCode, StandardResolutionReasons: R,
} = require('@openfeature/server-sdk');
const table = require('./table.js');

const POLL_MS = 100;
/* The number flag that is warden's stage. */
const STAGE_KEY = 'stage';

function checkOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') {
    throw new TypeError(`WardenProvider: options must be an object, not ${typeof options}`);
  }
  const { table: name, pollMs } = options;
  if (name !== undefined && name !== null && typeof name !== 'string') {
    throw new TypeError(`WardenProvider: options.table must be a string, not ${typeof name}`);
  }
  if (pollMs !== undefined &&
      (typeof pollMs !== 'number' || !Number.isFinite(pollMs) || pollMs < 1 || pollMs > 2 ** 31 - 1)) {
    throw new RangeError(`WardenProvider: options.pollMs must be a number of milliseconds from 1 to 2147483647, not ${String(pollMs)}`);
  }
  return options;
}

/* A resolution that is the caller's default, with why. */
function failed(value, code, message) {
  return { value, reason: R.ERROR, errorCode: code, errorMessage: message };
}

class WardenProvider {
  /*
   * options.table: the table's name ("/warden"); none: the table warden
   * gave this worker (WARDEN_TABLE_FD, WARDEN_TABLE). options.pollMs: how
   * often the generation is looked at for PROVIDER_CONFIGURATION_CHANGED.
   */
  constructor(options) {
    const o = checkOptions(options);
    this.metadata = Object.freeze({ name: 'warden' });
    this.runsOn = 'server';
    this.events = new OpenFeatureEventEmitter();
    this.tableName = o.table === undefined ? null : o.table;
    this.pollMs = o.pollMs === undefined ? POLL_MS : o.pollMs;
    this._table = null;
    this._timer = null;
    this._generation = 0;
  }

  /* Ready even with no table: it then answers defaults. */
  async initialize() {
    this._open();
    if (this._timer === null) {
      this._timer = setInterval(() => this._check(), this.pollMs);
      this._timer.unref();    // never what keeps the process alive
    }
  }

  async onClose() {
    if (this._timer !== null) clearInterval(this._timer);
    this._timer = null;
    if (this._table !== null) this._table.close();
    this._table = null;
  }

  _open() {
    if (this._table === null) {
      this._table = table.open(this.tableName);
      this._generation = this._table.generation();
    }
    return this._table;
  }

  /* Tells the SDK when warden published a change (the generation moved). */
  _check() {
    if (this._table === null) return;
    const g = this._table.generation();
    if (g === this._generation) return;
    const previous = this._generation;
    this._generation = g;
    this.events.emit(ProviderEvents.ConfigurationChanged, {
      message: `warden: table generation ${previous} -> ${g}`,
      metadata: { generation: g, previous },
    });
  }

  /* Why there is no answer from the table at all. */
  _noTable(value) {
    const t = this._table;
    const name = this.tableName === null ? "warden's table for this worker" : `table ${this.tableName}`;
    let why;
    if (table.loadError) why = `libwarden not loaded (${table.loadError})`;
    else if (t.state() === table.UNTRUSTED) why = `${name} is owned by a user it does not trust`;
    else why = `no ${name}`;
    return failed(value, ErrorCode.GENERAL, `warden: ${why}: the default`);
  }

  _metadata(t) {
    return { generation: this._generation, stage: t.stage() };
  }

  async resolveBooleanEvaluation(flagKey, defaultValue, context) {
    const t = this._open();
    this._check();
    const id = context ? context.targetingKey : undefined;
    if (id !== undefined && id !== null && (typeof id !== 'string' || id.includes('\0'))) {
      return failed(defaultValue, ErrorCode.INVALID_CONTEXT, typeof id === 'string'
        ? 'warden: targetingKey holds a NUL byte, which no id holds'
        : `warden: targetingKey must be a string, not ${typeof id}`);
    }
    const k = t.evaluate(flagKey, id === undefined ? null : id);
    if (k === table.EVAL.DEFAULT) {
      if (t.state() !== table.ATTACHED) return this._noTable(defaultValue);
      return {
        value: defaultValue, reason: R.DEFAULT, errorCode: ErrorCode.FLAG_NOT_FOUND,
        errorMessage: `warden: no flag ${JSON.stringify(flagKey)} in the table`,
      };
    }
    const value = k === table.EVAL.ON || k === table.EVAL.SPLIT_IN;
    // A percentage read without an id is off, as warden_enabled() answers.
    const reason = k === table.EVAL.SPLIT_IN || k === table.EVAL.SPLIT_OUT ? R.SPLIT : R.STATIC;
    const flagMetadata = this._metadata(t);
    if (k !== table.EVAL.ON && k !== table.EVAL.OFF) flagMetadata.rollout = true;
    return { value, variant: value ? 'on' : 'off', reason, flagMetadata };
  }

  async resolveNumberEvaluation(flagKey, defaultValue) {
    const t = this._open();
    this._check();
    if (flagKey !== STAGE_KEY) {
      return failed(defaultValue, ErrorCode.TYPE_MISMATCH,
        `warden: ${JSON.stringify(flagKey)} is no number: warden's flags are booleans, its one number is "stage"`);
    }
    const s = t.stage();
    if (s < 0) return this._noTable(defaultValue);
    return { value: s, variant: String(s), reason: R.STATIC, flagMetadata: this._metadata(t) };
  }

  async resolveStringEvaluation(flagKey, defaultValue) {
    return this._mismatch(flagKey, defaultValue, 'string');
  }

  async resolveObjectEvaluation(flagKey, defaultValue) {
    return this._mismatch(flagKey, defaultValue, 'object');
  }

  _mismatch(flagKey, defaultValue, type) {
    this._open();
    this._check();
    return failed(defaultValue, ErrorCode.TYPE_MISMATCH,
      `warden: ${JSON.stringify(flagKey)} is no ${type}: warden's flags are booleans, its one number is "stage"`);
  }
}

module.exports = { WardenProvider };
