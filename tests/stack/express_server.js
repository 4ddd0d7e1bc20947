// A real Express 4 app behind the npm `cors` 2 middleware, for the stack tests: argv[2] is a
// JSON file holding the `cors` options object, applied with app.use(cors(options)) before the
// routes. An `origin` string (or list entry) starting with `/` is a RegExp "/body/flags", as in
// tests/node/cors_server.js. Listens on 127.0.0.1, any free port, prints {"port": N} once.
// Run: NODE_PATH=target/node/node_modules node tests/stack/express_server.js CONFIG.json
// (without NODE_PATH the modules are taken from target/node/node_modules of this checkout).
'use strict';
const fs = require('fs');
const path = require('path');

function load(name) {
  try {
    return require(name);
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    return require(path.join(__dirname, '..', '..', 'target', 'node', 'node_modules', name));
  }
}
const express = load('express');
const cors = load('cors');

// The sandbox writes a regular expression as a string starting with `/` ("/body/flags").
function jsValue(v) {
  if (typeof v === 'string' && v.startsWith('/')) {
    const end = v.lastIndexOf('/');
    return new RegExp(v.slice(1, end), v.slice(end + 1));
  }
  return Array.isArray(v) ? v.map(jsValue) : v;
}

const options = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
if (options && typeof options === 'object' && 'origin' in options) {
  options.origin = jsValue(options.origin);
}

const app = express();
app.use(cors(options));
app.get('/api/data', (req, res) => res.set('X-Total-Count', '42').json({ ok: true }));
app.put('/api/data', (req, res) => res.json({ ok: true, method: 'PUT' }));
app.post('/api/data', (req, res) => res.status(201).json({ ok: true }));
app.delete('/api/data', (req, res) => res.json({ ok: true }));
app.get('/api/fail', () => {
  // A user's bug: an unhandled exception, answered 500 by Express's default error handler.
  throw new Error('boom: unhandled exception in the handler');
});

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`{"port": ${server.address().port}}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
