'use strict';
/*
 * worker.js: a worker that warden starts (tests/provider.test.js): the
 * provider with no table name reads the table warden gave it
 * (WARDEN_TABLE_FD). It prints its flag and stage at start and after
 * each PROVIDER_CONFIGURATION_CHANGED, when they changed; the tests wait
 * for those lines in warden's log.
 */
const { OpenFeature, ProviderEvents } = require('@openfeature/server-sdk');
const { WardenProvider } = require('..');

async function main() {
  await OpenFeature.setProviderAndWait(new WardenProvider({ pollMs: 10 }));
  const client = OpenFeature.getClient();
  let last = '';
  async function report() {
    const feat = await client.getBooleanDetails('feat', false);
    const stage = await client.getNumberValue('stage', -1);
    const line = `feat=${feat.value} reason=${feat.reason} stage=${stage}`;
    if (line !== last) console.log(line);
    last = line;
  }
  client.addHandler(ProviderEvents.ConfigurationChanged, report);
  await report();
  // The provider's timer keeps nothing alive: the worker does, on purpose.
  setInterval(() => {}, 2 ** 30);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
