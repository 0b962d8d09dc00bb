'use strict';
/*
 * warden-openfeature: warden's flags and stage in Node.js, as an
 * OpenFeature server provider (warden-node(3)).
 *
 *	const { OpenFeature } = require('@openfeature/server-sdk');
 *	const { WardenProvider } = require('warden-openfeature');
 *
 *	await OpenFeature.setProviderAndWait(new WardenProvider());
 *	const client = OpenFeature.getClient();
 *	if (await client.getBooleanValue('new_checkout', false, { targetingKey: userId }))
 *		...
 *
 * open() is the plain handle under the provider, for a program that wants
 * libwarden's reads without OpenFeature.
 */
const { WardenProvider } = require('./lib/provider.js');
const table = require('./lib/table.js');

module.exports = {
  WardenProvider,
  open: table.open,
  Table: table.Table,
  NO_TABLE: table.NO_TABLE,
  ATTACHED: table.ATTACHED,
  UNTRUSTED: table.UNTRUSTED,
  loadError: table.loadError,
  libraryPath: table.libraryPath,
};
