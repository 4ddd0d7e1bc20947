// The real npm `cors` middleware under Express, one option set per path prefix: the options
// in the JSON array given as argv[2] are served under /s0, /s1, … Each prefix has the routes
// the sandbox side declares in its routes file (GET, POST and OPTIONS /api/data), so a
// preflight passed on by `preflightContinue` or `origin: false` reaches the same answer.
// Prints {"port": N} once listening on 127.0.0.1 (port 0: any free port).
'use strict';
const fs = require('fs');
const express = require('express');
const cors = require('cors');

// The sandbox writes a regular expression as a string starting with `/` ("/body/flags").
function jsValue(v) {
  if (typeof v === 'string' && v.startsWith('/')) {
    const end = v.lastIndexOf('/');
    return new RegExp(v.slice(1, end), v.slice(end + 1));
  }
  return Array.isArray(v) ? v.map(jsValue) : v;
}

const sets = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const app = express();
sets.forEach((options, i) => {
  const opts = Object.assign({}, options);
  if ('origin' in opts) opts.origin = jsValue(opts.origin);
  const r = express.Router();
  r.use(cors(opts));
  r.get('/api/data', (req, res) => res.json({ ok: true }));
  r.post('/api/data', (req, res) => res.status(201).json({ ok: true }));
  r.options('/api/data', (req, res) => res.status(200).type('text/plain').send('continued'));
  app.use(`/s${i}`, r);
});
const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
