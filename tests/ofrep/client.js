// The OpenFeature server SDK with the OFREP provider, as a service would
// run them, driven by tests/process/cfgd_ofrep_test.py: one JSON request per
// line on stdin, one JSON answer per line on stdout.
//
//   node client.js BASE_URL [HEADERS_JSON]
//   {"op": "eval", "type": "boolean|string|number|object", "flag": NAME,
//    "default": VALUE, "context": {...}}
//     -> {"value", "variant", "reason", "errorCode", "errorMessage",
//         "flagMetadata"}
//   {"op": "many", "flag": NAME, "keys": [KEY...], "default": false}
//     -> {"values": {KEY: value}, "errors": {KEY: errorCode}}
'use strict';

const readline = require('node:readline');
const { OpenFeature } = require('@openfeature/server-sdk');
const { OFREPProvider } = require('@openfeature/ofrep-provider');

const getters = {
  boolean: 'getBooleanDetails',
  string: 'getStringDetails',
  number: 'getNumberDetails',
  object: 'getObjectDetails',
};

async function evaluate(client, type, flag, fallback, context) {
  const details = await client[getters[type]](flag, fallback, context || {});
  return {
    value: details.value,
    variant: details.variant,
    reason: details.reason,
    errorCode: details.errorCode,
    errorMessage: details.errorMessage,
    flagMetadata: details.flagMetadata,
  };
}

// Evaluates `flag` for every key, a few requests in flight at a time.
async function many(client, flag, keys, fallback) {
  const values = {};
  const errors = {};
  let next = 0;
  async function worker() {
    while (next < keys.length) {
      const key = keys[next++];
      const d = await evaluate(client, 'boolean', flag, fallback,
                               { targetingKey: key });
      values[key] = d.value;
      if (d.errorCode) errors[key] = d.errorCode;
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker));
  return { values, errors };
}

async function main() {
  const [baseUrl, headersJson] = process.argv.slice(2);
  if (!baseUrl) {
    process.stderr.write('usage: node client.js BASE_URL [HEADERS_JSON]\n');
    process.exit(2);
  }
  const headers = JSON.parse(headersJson || '{}');
  await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl, headers }));
  const client = OpenFeature.getClient();
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let out;
    try {
      const req = JSON.parse(line);
      if (req.op === 'eval')
        out = await evaluate(client, req.type, req.flag, req.default,
                             req.context);
      else if (req.op === 'many')
        out = await many(client, req.flag, req.keys, req.default);
      else
        out = { crash: `unknown op ${req.op}` };
    } catch (e) {
      out = { crash: String(e && e.stack || e) };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  await OpenFeature.close();
}

main().catch((e) => {
  process.stderr.write(`client.js: ${e && e.stack || e}\n`);
  process.exit(1);
});
