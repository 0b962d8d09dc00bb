'use strict';
/*
 * table.js: a handle on warden's table, over the addon (src/addon.c),
 * which calls libwarden for every answer. The same never-fail reads as
 * libwarden(3) and the Python module: no exception for a missing,
 * deleted, damaged or untrusted table, nor for a missing library; only a
 * programming error (a flag, id or name of the wrong type) throws a
 * TypeError.
 *
 * The addon is looked for at WARDEN_NODE_ADDON, if set (and only there),
 * else beside the package (installed), else in the checkout's build/node/.
 * libwarden: WARDEN_LIBRARY, if set (and only there); the one `make
 * install` installed (lib/_paths.js); the checkout's lib/; the system's
 * libwarden.so.0. When the addon or the library does not load, loadError
 * says why and every handle answers defaults.
 */
const fs = require('node:fs');
const path = require('node:path');

const NO_TABLE = 0;
const ATTACHED = 1;
const UNTRUSTED = 2;
const SONAME = 'libwarden.so.0';
const TOP = path.join(__dirname, '..');

/* evaluate()'s kinds of answer (src/addon.c, ADDON_EVAL_*). */
const EVAL = Object.freeze({
  DEFAULT: -1, OFF: 0, ON: 1, SPLIT_NOID: 2, SPLIT_OUT: 3, SPLIT_IN: 4,
});

function candidates(env, installed, checkout, fallback) {
  if (process.env[env] !== undefined) return [process.env[env]];
  const out = [];
  if (installed) out.push(installed);
  out.push(checkout);
  if (fallback) out.push(fallback);
  return out;
}

function installedLibrary() {
  try {
    return require('./_paths.js').LIBRARY;  // written by make install
  } catch (e) {
    return null;
  }
}

function loadAddon(errors) {
  const list = candidates('WARDEN_NODE_ADDON', path.join(TOP, 'warden.node'),
    path.join(TOP, '..', 'build', 'node', 'warden.node'), null);
  for (const p of list) {
    if (p !== list[0] && !fs.existsSync(p)) continue;
    try {
      return { addon: require(p), file: p };
    } catch (e) {
      errors.push(`${p}: ${e.message}`);
    }
  }
  if (errors.length === 0) errors.push('warden.node not found');
  return null;
}

function loadLibrary(addon, errors) {
  const list = candidates('WARDEN_LIBRARY', installedLibrary(),
    path.join(TOP, '..', 'lib', SONAME), SONAME);
  for (const p of list) {
    // A place it may be is not worth a complaint; the first one named is.
    if (p !== list[0] && p.includes('/') && !fs.existsSync(p)) continue;
    let why;
    try {
      why = addon.load(p);
    } catch (e) {
      why = e.message;    // not a path: an empty or NUL-bearing variable
    }
    if (why === null || why === false) return p;
    errors.push(`${p}: ${why}`);
  }
  return null;
}

const errors = [];
const found = loadAddon(errors);
const addon = found ? found.addon : null;
const libraryPath = addon ? loadLibrary(addon, errors) : null;
const loadError = libraryPath ? null : errors.join('; ');

function checkText(v, what) {
  if (typeof v !== 'string') {
    throw new TypeError(`warden: ${what} must be a string, not ${v === null ? 'null' : typeof v}`);
  }
}

/* A handle on warden's table; see warden-node(3). */
class Table {
  constructor(name) {
    if (name !== undefined && name !== null) checkText(name, 'the table name');
    this.name = name === undefined ? null : name;
    this._h = addon ? addon.open(this.name) : null;
  }

  /* True when flag is on (100); false when off or a percentage. */
  enabled(flag, dflt = false) {
    if (this._h === null) {
      checkText(flag, 'the flag');
      return Boolean(dflt);
    }
    return addon.enabled(this._h, flag, dflt);
  }

  /* Whether the rollout of flag includes id (libwarden(3)). */
  enabledFor(flag, id, dflt = false) {
    if (this._h === null) {
      checkText(flag, 'the flag');
      checkText(id, 'the id');
      return Boolean(dflt);
    }
    checkText(id, 'the id');
    return addon.enabledFor(this._h, flag, id, dflt);
  }

  /* EVAL.*: the answer and how the table gave it (id may be null). */
  evaluate(flag, id = null) {
    if (this._h === null) {
      checkText(flag, 'the flag');
      return EVAL.DEFAULT;
    }
    return addon.evaluate(this._h, flag, id);
  }

  stage() { return this._h === null ? -1 : addon.stage(this._h); }

  generation() { return this._h === null ? 0 : addon.generation(this._h); }

  state() { return this._h === null ? NO_TABLE : addon.state(this._h); }

  /* Reads after it answer defaults; closing twice does nothing. */
  close() {
    const h = this._h;
    this._h = null;
    if (h !== null) addon.close(h);
  }
}

function open(name = null) {
  return new Table(name);
}

module.exports = {
  open, Table, EVAL, NO_TABLE, ATTACHED, UNTRUSTED, loadError, libraryPath,
  addon, addonPath: found ? found.file : null,
};
