// Browser tests of cqrsd's web pages (issue 14): /console and /docs, in
// Debian's chromium driven by playwright-core, against real cqrsd processes.
//
//   node tests/browser/pages.mjs --cqrsd build/cqrsd --source . \
//        --out build/test-output/browser
//
// Run by ctest as `browser` (tests/CMakeLists.txt). It needs
// CQRSD_PLAYWRIGHT_DIR, the node_modules folder holding playwright-core
// (scripts/lib/npm_tools.sh installs it; scripts/test.sh exports it), and
// chromium at /usr/bin/chromium (scripts/deps.sh; CQRSD_CHROMIUM overrides).
// What it checks, each a line "ok N - ..." (the first failed check ends the
// run with "FAILED: ..." and exit status 1):
// - the assets: Content-Type, Cache-Control, ETag, 304, nosniff and CSP of
//   both pages, each asset answered within 1 s to a browser's
//   Accept-Encoding, and 404 for paths that climb out of the page folders;
// - /docs of both shipped domains renders an operation for every path and
//   method of the node's /openapi.json, and "Try it out" on a GET of one row
//   answers 200 in the page (404 for a row that is not there);
// - /console: the node's identity, the seq following writes made over HTTP,
//   the commit list, the write rate, the cache hit ratio of a view rising on
//   repeated reads;
// - on a query node of a two-node cluster (one SQLite file), the link shown
//   as lost when the command node is killed with SIGKILL, and as linked once
//   it is back;
// - a node named `<img src=x onerror=alert(1)>` renders the name as text and
//   runs no script; with http.read_token set, the console asks for the token
//   and shows data after it, and /docs "Try it out" works with it.
// It saves a full-page screenshot of each page into --out and prints how
// many bytes each page transferred (the sum of its response bodies).
// `--only objects,library,hostile,token,cluster` runs some scenarios. Every
// wait has a deadline; every cqrsd it starts is killed at the end (its
// process group, SIGKILL after 10 s), and its temporary folder removed.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// -- arguments and environment ----------------------------------------------

function usage(message) {
  console.error(`pages.mjs: ${message}`);
  console.error('usage: node pages.mjs --cqrsd <binary> --source <repo> --out <folder> [--timeout <s>] [--only <scenario,...>]');
  process.exit(2);
}

const args = { timeout: '270' };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i];
  const value = process.argv[i + 1];
  if (!key.startsWith('--') || value === undefined) usage(`bad argument ${key}`);
  args[key.slice(2)] = value;
}
for (const key of ['cqrsd', 'source', 'out'])
  if (!args[key]) usage(`--${key} is missing`);

const cqrsdBinary = path.resolve(args.cqrsd);
const sourceDir = path.resolve(args.source);
const outDir = path.resolve(args.out);
const overallTimeoutMs = Number(args.timeout) * 1000;
const chromiumPath = process.env.CQRSD_CHROMIUM || '/usr/bin/chromium';

if (!process.env.CQRSD_PLAYWRIGHT_DIR) {
  // tests/CMakeLists.txt marks the entry skipped on this sentence.
  console.log('pages.mjs: playwright-core is not installed: CQRSD_PLAYWRIGHT_DIR is not set ' +
              '(scripts/test.sh sets it; or run `bash scripts/lib/npm_tools.sh` and export it)');
  process.exit(1);
}
const requireFromTools = createRequire(path.join(path.resolve(process.env.CQRSD_PLAYWRIGHT_DIR), 'noop.js'));
let chromium;
try {
  ({ chromium } = requireFromTools('playwright-core'));
} catch (e) {
  console.error(`pages.mjs: FAILED: cannot load playwright-core from CQRSD_PLAYWRIGHT_DIR=${process.env.CQRSD_PLAYWRIGHT_DIR}: ${e.message}`);
  process.exit(1);
}

// -- checks -----------------------------------------------------------------

class CheckFailed extends Error {}

let passed = 0;
const started = Date.now();

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function pass(what) {
  passed += 1;
  console.log(`ok ${passed} - ${what}  [${seconds(Date.now() - started)}]`);
}

function fail(what) {
  throw new CheckFailed(what);
}

function check(condition, what, detail) {
  if (!condition) fail(detail === undefined ? what : `${what} (${detail})`);
  pass(what);
}

function note(text) {
  console.log(`# ${text}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Calls `probe` until it returns something other than undefined/false, or
// fails after `timeout` ms. `probe` gets an object whose `last` it may set
// to describe what it saw, for the failure message.
async function waitFor(what, probe, { timeout = 10000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  const seen = { last: undefined };
  for (;;) {
    let result;
    try {
      result = await probe(seen);
    } catch (e) {
      if (e instanceof CheckFailed) throw e;
      seen.last = `error: ${e.message.split('\n')[0]}`;
    }
    if (result !== undefined && result !== false) return result;
    if (Date.now() >= deadline)
      fail(`timed out after ${seconds(timeout)} waiting for ${what}` +
           (seen.last === undefined ? '' : `; last seen: ${seen.last}`));
    await sleep(interval);
  }
}

// -- temporary folders and free ports ----------------------------------------

const tempDirs = [];

function makeTempDir(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cqrsd-browser-${label}-`));
  tempDirs.push(dir);
  return dir;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// -- cqrsd processes ----------------------------------------------------------

const nodes = new Set();

function yamlScalar(value) {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // A JSON string of printable text is a YAML double-quoted scalar.
  return JSON.stringify(String(value));
}

function configText(settings) {
  let text = '# Written by tests/browser/pages.mjs.\n';
  for (const [key, value] of Object.entries(settings))
    if (typeof value !== 'object') text += `${key}: ${yamlScalar(value)}\n`;
  for (const [key, value] of Object.entries(settings)) {
    if (typeof value !== 'object') continue;
    text += `${key}:\n`;
    for (const [inner, v] of Object.entries(value)) text += `  ${inner}: ${yamlScalar(v)}\n`;
  }
  return text;
}

class Node {
  // `settings`: sections of the config file, e.g. {node: {name: 'x'}}; the
  // listen address, SQLite file and log level are filled in unless given.
  constructor(label, settings = {}) {
    this.label = label;
    this.dir = makeTempDir(label);
    this.settings = settings;
    this.proc = null;
    this.exited = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get name() {
    return this.settings.node.name;
  }

  async start() {
    if (this.port === undefined) {
      this.port = await freePort();
      const s = this.settings;
      s.node = { name: this.label, ...(s.node || {}) };
      s.http = { listen: `127.0.0.1:${this.port}`, threads: 16, ...(s.http || {}) };
      s.database = { sqlite_path: path.join(this.dir, 'cqrsd.db'), ...(s.database || {}) };
      s.log = { level: 'info', ...(s.log || {}) };
      this.configPath = path.join(this.dir, 'cqrsd.yaml');
      fs.writeFileSync(this.configPath, configText(s));
      this.logPath = path.join(this.dir, 'cqrsd.log');
    }
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(cqrsdBinary, ['--config', this.configPath], {
      cwd: this.dir, detached: true, stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.exited = null;
    const proc = this.proc;
    proc.exitPromise = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exited = signal ? `signal ${signal}` : `exit status ${code}`;
        resolve();
      });
      proc.on('error', (e) => {
        this.exited = `spawn error ${e.message}`;
        resolve();
      });
    });
    nodes.add(this);
    await waitFor(`${this.label} to answer 200 on /readyz`, async (seen) => {
      if (this.exited) fail(`cqrsd ${this.label} ended (${this.exited}) before it was ready; log:\n${this.logTail()}`);
      const answer = await httpGet(this.url, '/readyz', 1000).catch((e) => ({ status: e.message }));
      seen.last = answer.status;
      return answer.status === 200;
    }, { timeout: 15000, interval: 50 });
    return this;
  }

  // Signals the process group and waits for the exit; SIGKILL after 10 s.
  async stop(signal = 'SIGTERM') {
    const proc = this.proc;
    if (!proc || this.exited) return;
    try { process.kill(-proc.pid, signal); } catch { /* gone already */ }
    const exited = await Promise.race([proc.exitPromise.then(() => true), sleep(10000).then(() => false)]);
    if (!exited) {
      console.log(`# cqrsd ${this.label} did not stop within 10 s after ${signal}: SIGKILL`);
      try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone already */ }
      await Promise.race([proc.exitPromise, sleep(5000)]);
    }
    nodes.delete(this);
  }

  killNow() {
    if (this.proc && !this.exited)
      try { process.kill(-this.proc.pid, 'SIGKILL'); } catch { /* gone already */ }
  }

  logTail(chars = 4000) {
    try {
      const text = fs.readFileSync(this.logPath, 'utf8');
      return text.slice(-chars);
    } catch {
      return '(no log)';
    }
  }
}

// -- HTTP from the test -------------------------------------------------------

async function httpGet(base, urlPath, timeoutMs = 5000, headers = {}) {
  return api(base, 'GET', urlPath, undefined, headers, timeoutMs);
}

// One request on a connection of its own (no keep-alive: an idle
// connection would hold one of the node's worker threads, and delay its
// shutdown); answers {status, headers, text, json}.
function api(base, method, urlPath, body, headers = {}, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const all = { ...headers };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) all['Content-Type'] = 'application/json';
    const request = http.request(base + urlPath, { method, headers: all, agent: false, timeout: timeoutMs }, (response) => {
      const chunks = [];
      response.on('data', (c) => chunks.push(c));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: response.statusCode, headers: response.headers, text, json });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer to ${method} ${urlPath} within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(payload);
  });
}

async function write(node, urlPath, body, headers = {}) {
  const answer = await api(node.url, 'POST', urlPath, body, headers);
  if (answer.status !== 201 && answer.status !== 200)
    fail(`POST ${urlPath} on ${node.label} answered ${answer.status}: ${answer.text}`);
  if (!Number.isInteger(answer.json?.seq) || !Number.isInteger(answer.json?.id))
    fail(`POST ${urlPath} on ${node.label} answered no id and seq: ${answer.text}`);
  return answer.json;
}

async function status(node, headers = {}) {
  const answer = await httpGet(node.url, '/status', 5000, headers);
  if (answer.status !== 200) fail(`/status of ${node.label} answered ${answer.status}: ${answer.text}`);
  return answer.json;
}

// The value of one series of /metrics, e.g. metric(text, 'cqrsd_cache_hits_total', {view: 'categories'}).
function metric(text, name, labels = {}) {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labelText = '';
    let valueText;
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}');
      labelText = rest.slice(1, close);
      valueText = rest.slice(close + 1).trim();
    } else if (rest.startsWith(' ')) {
      valueText = rest.trim();
    } else {
      continue;
    }
    if (wanted.every((w) => labelText.split(',').includes(w))) return Number(valueText.split(' ')[0]);
  }
  return undefined;
}

// The body of a chunked answer.
function unchunk(data) {
  const parts = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

// One request with its path sent byte for byte (fetch and http.request
// would normalize `..` and percent escapes); answers {status, headers, body}.
function rawGet(node, rawPath, extraHeaders = '') {
  return new Promise((resolve, reject) => {
    const socket = net.connect(node.port, '127.0.0.1');
    const chunks = [];
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer to GET ${rawPath} within 5 s`)));
    socket.on('connect', () => {
      socket.write(`GET ${rawPath} HTTP/1.1\r\nHost: 127.0.0.1:${node.port}\r\n${extraHeaders}Connection: close\r\n\r\n`);
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const data = Buffer.concat(chunks);
      const headEnd = data.indexOf('\r\n\r\n');
      if (headEnd < 0) return reject(new Error(`no HTTP answer to GET ${rawPath}: ${JSON.stringify(data.toString('latin1').slice(0, 200))}`));
      const lines = data.subarray(0, headEnd).toString('latin1').split('\r\n');
      const statusCode = Number(lines[0].split(' ')[1]);
      const headers = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = data.subarray(headEnd + 4);
      if (/chunked/i.test(headers['transfer-encoding'] || '')) body = unchunk(body);
      resolve({ status: statusCode, headers, body: body.toString('utf8') });
    });
  });
}

// -- the browser ----------------------------------------------------------------

let browser;
const pageReports = [];

// A page in a context of its own, with its responses, console errors, page
// errors and dialogs recorded.
async function openPage(label, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const record = { label, url, bytes: 0, assetBytes: 0, wireBytes: 0, responses: 0, pending: [], problems: [], dialogs: [] };
  page.on('response', (response) => {
    if (record.reported) return;
    const asset = /^\/(console|docs)(\/|$)/.test(new URL(response.url()).pathname);
    record.pending.push(response.body().then((body) => {
      record.bytes += body.length;
      record.responses += 1;
      if (asset) record.assetBytes += body.length;
    }, () => { /* no body: a 304, a redirect, or the page went away */ }));
  });
  // The bodies as sent, compressed or not.
  page.on('requestfinished', (request) => {
    if (record.reported) return;
    record.pending.push(request.sizes().then((sizes) => {
      record.wireBytes += sizes.responseBodySize;
    }, () => {}));
  });
  page.on('console', (message) => {
    if (message.type() === 'error') record.problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => record.problems.push(`uncaught exception: ${error.message}`));
  page.on('dialog', (dialog) => {
    record.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.record = record;
  page.closeAll = async () => {
    await report(page);
    await context.close();
  };
  if (url) {
    const response = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    if (!response || response.status() !== 200)
      fail(`${label}: GET ${url} answered ${response ? response.status() : 'nothing'} in the browser`);
  }
  return page;
}

// Problems the page logged whose text matches none of `allowed`.
function pageProblems(page, allowed = []) {
  return page.record.problems.filter((p) => !allowed.some((a) => a.test(p)));
}

// Records what the page transferred so far (once per page).
async function report(page) {
  const r = page.record;
  await Promise.all(r.pending);
  if (r.reported) return;
  r.reported = true;
  pageReports.push(r);
}

async function screenshot(page, file) {
  const target = path.join(outDir, file);
  await page.screenshot({ path: target, fullPage: true, timeout: 15000 });
  page.record.screenshot = target;
  await report(page);
  note(`${page.record.label}: screenshot ${target}`);
}

// The state of one element: text, data-state, whether it is visible; null
// when missing.
function element(page, selector) {
  return page.evaluate((sel) => {
    const e = document.querySelector(sel);
    if (!e) return null;
    const style = getComputedStyle(e);
    const box = e.getBoundingClientRect();
    return {
      text: e.textContent.trim(),
      state: e.getAttribute('data-state'),
      visible: !e.hidden && style.display !== 'none' && style.visibility !== 'hidden' && box.width > 0 && box.height > 0,
    };
  }, selector);
}

async function waitText(page, selector, wanted, what, timeout = 10000) {
  return waitFor(what, async (seen) => {
    const e = await element(page, selector);
    seen.last = e ? JSON.stringify(e.text) : `no ${selector}`;
    return e && (typeof wanted === 'function' ? wanted(e.text) : e.text === wanted) ? e.text : undefined;
  }, { timeout });
}

// -- the assets ---------------------------------------------------------------

const htmlCsp = ["default-src 'none'", "script-src 'self'", "img-src 'self' data:", "connect-src 'self'", "base-uri 'none'",
                 "form-action 'none'", "frame-ancestors 'none'"];
const styleCsp = { console: "style-src 'self'", docs: "style-src 'self' 'unsafe-inline'" };

function contentTypeFor(file) {
  const ext = path.extname(file.split('?')[0]).toLowerCase();
  return {
    '.html': /^text\/html\b/, '.js': /^(text|application)\/javascript\b/, '.mjs': /^(text|application)\/javascript\b/,
    '.css': /^text\/css\b/, '.json': /^application\/json\b/, '.png': /^image\/png$/, '.svg': /^image\/svg\+xml\b/,
    '.ico': /^image\/(x-icon|vnd\.microsoft\.icon)$/, '.map': /^application\/json\b/,
  }[ext];
}

// The same-origin assets an HTML page loads: <script src>, <link href>,
// <img src>.
function referencedAssets(html) {
  const found = new Set();
  for (const m of html.matchAll(/<(?:script|link|img)\b[^>]*?\s(?:src|href)\s*=\s*["']([^"']+)["']/gi)) {
    const ref = m[1];
    if (/^(https?:|data:|#|mailto:)/i.test(ref) || ref.startsWith('//')) continue;
    found.add(ref);
  }
  return [...found];
}

async function checkAssets(node) {
  for (const [page, index] of [['console', '/console'], ['docs', '/docs']]) {
    for (const variant of [index, `${index}/`]) {
      const answer = await rawGet(node, variant);
      const h = answer.headers;
      check(answer.status === 200 && /^text\/html\b/.test(h['content-type'] || '') && /charset=utf-8/i.test(h['content-type']),
            `GET ${variant} answers 200 text/html; charset=utf-8`, `${answer.status} ${h['content-type']}`);
      check(h['cache-control'] === 'no-cache' && /^"[^"]+"$/.test(h.etag || '') && h['x-content-type-options'] === 'nosniff',
            `GET ${variant} has Cache-Control: no-cache, a quoted ETag and X-Content-Type-Options: nosniff`,
            JSON.stringify({ cc: h['cache-control'], etag: h.etag, nosniff: h['x-content-type-options'] }));
      const csp = h['content-security-policy'] || '';
      const directives = csp.split(';').map((d) => d.trim());
      const missing = htmlCsp.concat([styleCsp[page]]).filter((d) => !directives.includes(d));
      const unsafeScript = /script-src[^;]*('unsafe-inline'|'unsafe-eval'|\*)/.test(csp);
      check(missing.length === 0 && !unsafeScript && /(^|;)\s*default-src 'none'/.test(csp),
            `GET ${variant} has the Content-Security-Policy of the contract`, `got ${JSON.stringify(csp)}; missing ${missing.join(', ')}`);
      const again = await rawGet(node, variant, `If-None-Match: ${h.etag}\r\n`);
      check(again.status === 304 && again.body === '', `GET ${variant} with If-None-Match of its ETag answers 304 without a body`,
            `${again.status}, ${again.body.length} bytes`);
    }
    const html = (await rawGet(node, index)).body;
    const assets = referencedAssets(html);
    const local = assets.filter((a) => a.startsWith(`/${page}/`));
    check(local.length > 0 && local.length === assets.length,
          `${index}'s HTML references its assets by absolute /${page}/ paths only`, JSON.stringify(assets));
    check(!/<script(?![^>]*\ssrc=)[^>]*>/i.test(html) && !/\son[a-z]+\s*=/i.test(html) && !/\sstyle\s*=/i.test(html),
          `${index}'s HTML has no inline script, on* handler or style attribute`);
    if (page === 'console')
      check(['/console/console.js', '/console/console.css'].every((a) => local.includes(a)),
            '/console references /console/console.js and /console/console.css', JSON.stringify(local));
    for (const asset of local) {
      // As a browser asks for it: a compressed answer must not be slow to
      // make (every asset is answered to anyone, without a token).
      const t0 = Date.now();
      const compressed = await rawGet(node, asset, 'Accept-Encoding: gzip, deflate, br, zstd\r\n');
      const took = Date.now() - t0;
      check(compressed.status === 200 && took < 1000,
            `GET ${asset} with Accept-Encoding: gzip, deflate, br, zstd answers 200 within 1 s ` +
            `(${took} ms, ${compressed.headers['content-encoding'] || 'identity'})`, `${compressed.status} after ${took} ms`);
      const answer = await rawGet(node, asset);
      const type = answer.headers['content-type'] || '';
      const wanted = contentTypeFor(asset);
      check(answer.status === 200 && wanted !== undefined && wanted.test(type) && answer.body.length > 0,
            `GET ${asset} answers 200 with Content-Type ${type}`, `${answer.status} ${type} (wanted ${wanted})`);
      check(answer.headers['cache-control'] === 'no-cache' && answer.headers['x-content-type-options'] === 'nosniff' &&
            /^"[^"]+"$/.test(answer.headers.etag || ''),
            `GET ${asset} has Cache-Control: no-cache, nosniff and an ETag`, JSON.stringify(answer.headers));
    }
  }
  // Paths out of the page folders, spelled so that nothing normalizes them.
  // /etc/passwd is on every machine; CMakeCache.txt is two folders above
  // build/web/console, the installed web folder of a build tree.
  const escapes = [
    '/console/../config/default.yaml',
    '/console/../../CMakeCache.txt',
    '/console/../../../../../../../../../../etc/passwd',
    '/console/..%2f..%2fCMakeCache.txt',
    '/console/%2e%2e/%2e%2e/CMakeCache.txt',
    '/console/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/console//etc/passwd',
    '/console/%2fetc%2fpasswd',
    '/console/....//....//CMakeCache.txt',
    '/console/..\\..\\CMakeCache.txt',
    '/docs/%2e%2e/%2e%2e/CMakeCache.txt',
    '/docs/%2e%2e/console/index.html',
    '/docs/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd',
    '/docs/..%5c..%5cCMakeCache.txt',
    '/docs/%252e%252e/%252e%252e/CMakeCache.txt',
    '/docs/index.html%00.js',
    '/docs/nonexistent.js',
  ];
  for (const rawPath of escapes) {
    const answer = await rawGet(node, rawPath);
    let code;
    try { code = JSON.parse(answer.body)?.error?.code; } catch { code = undefined; }
    const leaked = /root:|CMAKE_|<html|http:/i.test(answer.body);
    check(answer.status === 404 && code !== undefined && !leaked,
          `GET ${rawPath} answers 404 JSON (${code})`, `${answer.status}: ${answer.body.slice(0, 120)}`);
  }
}

// -- /docs ----------------------------------------------------------------------

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

// Every (method, path) of an OpenAPI document.
function operationsOf(doc) {
  const result = [];
  for (const [p, item] of Object.entries(doc.paths || {}))
    for (const m of Object.keys(item)) if (methods.includes(m)) result.push(`${m.toUpperCase()} ${p}`);
  return result.sort();
}

// The operations Swagger UI shows, opening every collapsed tag first.
async function renderedOperations(page) {
  await waitFor('Swagger UI to render operations', async (seen) => {
    const n = await page.locator('.opblock-tag, .opblock').count();
    const failed = await page.locator('.information-container .errors-wrapper, .loading-container .errors').count();
    seen.last = `${n} operations and tags, ${failed} error boxes`;
    if (failed) {
      const text = await page.locator('.errors-wrapper, .loading-container').first().textContent();
      fail(`Swagger UI shows an error: ${text}`);
    }
    return n > 0;
  }, { timeout: 20000 });
  for (const tag of await page.locator('.opblock-tag-section:not(.is-open) .opblock-tag').all())
    await tag.click();
  return page.evaluate(() => [...document.querySelectorAll('.opblock')].map((block) => {
    const method = block.querySelector('.opblock-summary-method')?.textContent.trim().toUpperCase();
    const p = block.querySelector('.opblock-summary-path')?.getAttribute('data-path');
    return `${method} ${p}`;
  }).sort());
}

// Opens one operation, "Try it out", fills its parameters, "Execute"; answers
// the status the page shows and the response body text.
async function tryItOut(page, method, opPath, params) {
  const block = page.locator(`.opblock.opblock-${method}`).filter({
    has: page.locator(`.opblock-summary-path[data-path="${opPath}"]`),
  }).first();
  if (!(await block.locator('.opblock-body').count()))
    await block.locator('.opblock-summary').first().click();
  const tryButton = block.locator('.try-out__btn');
  await tryButton.waitFor({ timeout: 5000 });
  if ((await tryButton.textContent()).trim().toLowerCase().startsWith('try'))
    await tryButton.click();
  for (const [name, value] of Object.entries(params)) {
    const input = block.locator(`tr[data-param-name="${name}"] input`).first();
    await input.fill(String(value), { timeout: 5000 });
  }
  // A previous answer, if any, must not be taken for this one.
  const clear = block.locator('.btn-clear');
  if (await clear.count()) await clear.first().click();
  await block.locator('.execute').click({ timeout: 5000 });
  const cell = block.locator('.responses-wrapper .live-responses-table tr.response .response-col_status').first();
  const code = await waitFor(`the answer of ${method.toUpperCase()} ${opPath} in the page`, async (seen) => {
    if (!(await cell.count())) { seen.last = 'no live response'; return undefined; }
    const text = (await cell.textContent()).trim();
    seen.last = text;
    // A request that failed in the browser shows no status, e.g.
    // "Undocumented" with "Failed to fetch" in the description.
    return /^\d{3}/.test(text) ? Number(text.slice(0, 3)) : text || undefined;
  }, { timeout: 10000 });
  const body = await block.locator('.live-responses-table tr.response .response-col_description').first().textContent();
  return { code, body };
}

async function checkDocs(node, domain, read, screenshotFile, headers = {}) {
  const spec = await httpGet(node.url, '/openapi.json', 5000, headers);
  if (spec.status !== 200) fail(`/openapi.json of ${node.label} answered ${spec.status}`);
  const wanted = operationsOf(spec.json);
  const page = await openPage(`/docs (${domain})`, `${node.url}/docs`);
  const shown = await renderedOperations(page);
  const missing = wanted.filter((op) => !shown.includes(op));
  check(wanted.length >= 12 && missing.length === 0,
        `/docs of the ${domain} domain shows all ${wanted.length} operations of /openapi.json`,
        `missing ${missing.join(', ')}; shown ${shown.join(', ')}`);
  const resources = [...new Set(Object.keys(spec.json.paths).filter((p) => !/^\/(healthz|readyz|metrics|status|commits|openapi\.json)$/.test(p)).map((p) => p.split('/')[1]))];
  note(`${domain}: resources and views ${resources.join(', ')}`);
  const missingRow = await tryItOut(page, 'get', read.path, { id: 999999 });
  check(missingRow.code === 404, `/docs (${domain}): Try it out GET ${read.path} with an unknown id shows 404`,
        `${missingRow.code}: ${missingRow.body.slice(0, 300)}`);
  const result = await tryItOut(page, 'get', read.path, { id: read.id });
  check(result.code === 200 && result.body.includes(read.expect),
        `/docs (${domain}): Try it out GET ${read.path} with id ${read.id} shows 200 and the row`,
        `${result.code}: ${result.body.slice(0, 200)}`);
  const problems = pageProblems(page, [/Failed to load resource.*404/]);
  check(problems.length === 0 && page.record.dialogs.length === 0, `/docs (${domain}) logged no error and opened no dialog`,
        problems.concat(page.record.dialogs).join('; '));
  await screenshot(page, screenshotFile);
  await page.closeAll();
}

// -- /console -------------------------------------------------------------------

const number = (text) => (text === undefined || text === null || !/\d/.test(text) ? undefined : Number(text.replace(/[^\d.eE+-]/g, '')));

async function waitSeq(page, seq, what) {
  return waitText(page, '#seq', (t) => /^\d+$/.test(t) && Number(t) >= seq, what, 10000);
}

async function viewRow(page, view) {
  return page.evaluate((v) => {
    const row = document.querySelector(`#views tbody tr[data-view="${CSS.escape(v)}"]`);
    if (!row) return null;
    const cell = (c) => row.querySelector(`td.${c}`)?.textContent.trim();
    return { readRate: cell('read-rate'), hitRatio: cell('hit-ratio'), hits: cell('hits'), misses: cell('misses') };
  }, view);
}

async function checkConsoleObjects(node) {
  const page = await openPage('/console (objects)', `${node.url}/console`);
  const st = await status(node);
  await waitText(page, '#node-name', node.name, 'the console to show the node name');
  for (const [selector, wanted] of [['#role', 'standalone'], ['#domain-name', 'objects'], ['#domain-digest', st.domain.digest]])
    await waitText(page, selector, wanted, `${selector} to show ${wanted}`);
  const link = await element(page, '#link-state');
  const caches = await element(page, '#caches-state');
  check(link?.state === 'linked' && link.text === 'linked' && caches?.state === 'in_use' && caches.text === 'in_use',
        '/console shows the node name, role, domain and digest, link linked and caches in_use',
        JSON.stringify({ link, caches }));
  await waitText(page, '#actor-count', String(st.query_actor_count), '#actor-count');
  const actorRows = await page.locator('#actors tbody tr').count();
  check(actorRows === st.query_actors.length, `/console lists the ${st.query_actor_count} query actors`, `${actorRows} rows`);

  // The seq follows writes made from here.
  const before = number((await element(page, '#seq')).text);
  for (let i = 1; i <= 3; i += 1) {
    const answer = await write(node, '/categories', { description: `browser test category ${i}` });
    const shown = await waitSeq(page, answer.seq, `#seq to reach ${answer.seq} after POST /categories`);
    check(Number(shown) === answer.seq, `/console's #seq moves to ${answer.seq} after a write (from ${before})`, shown);
    const row = await waitFor(`#commits to list seq ${answer.seq}`, async (seen) => {
      const r = await page.evaluate((s) => {
        const rows = [...document.querySelectorAll('#commits tbody tr')];
        const tr = document.querySelector(`#commits tbody tr[data-seq="${s}"]`);
        return { first: rows[0]?.getAttribute('data-seq'), text: tr ? tr.textContent : null };
      }, answer.seq);
      seen.last = JSON.stringify(r);
      return r.text !== null ? r : undefined;
    });
    check(row.text.includes(`category:${answer.id}`) && row.first === String(answer.seq),
          `/console lists commit ${answer.seq} first, with its key category:${answer.id}`, JSON.stringify(row));
  }

  // The write rate, while writes go on.
  let writing = true;
  const writer = (async () => {
    let i = 0;
    while (writing) {
      await write(node, '/categories', { description: `rate ${i++}` });
      await sleep(20);
    }
  })();
  try {
    const rate = await waitFor('#write-rate to show a rate above 0 while writes go on', async (seen) => {
      const e = await element(page, '#write-rate');
      seen.last = e?.text;
      return number(e?.text) > 0 ? e.text : undefined;
    }, { timeout: 10000 });
    pass(`/console shows a write rate of ${rate} while writes go on`);
  } finally {
    writing = false;
    await writer;
  }

  // The hit ratio of a view rises on repeated reads: a fresh row is read
  // once (a miss), then many times (hits).
  const fresh = await write(node, '/categories', { description: 'read me' });
  const read = async () => {
    const answer = await httpGet(node.url, `/categories/${fresh.id}`);
    if (answer.status !== 200) fail(`GET /categories/${fresh.id} answered ${answer.status}`);
  };
  await read();
  const metricsMisses = metric((await httpGet(node.url, '/metrics')).text, 'cqrsd_cache_misses_total', { view: 'categories' });
  check(metricsMisses >= 1, '/metrics counts the misses of view categories', `cqrsd_cache_misses_total{view="categories"} = ${metricsMisses}`);
  const baseline = await waitFor('the categories row to count the miss', async (seen) => {
    const row = await viewRow(page, 'categories');
    seen.last = JSON.stringify(row);
    return row && number(row.misses) >= metricsMisses ? row : undefined;
  });
  const baseRatio = number(baseline.hitRatio) ?? 0;
  note(`categories before the repeated reads: ${JSON.stringify(baseline)}`);
  let reading = true;
  let reads = 0;
  const reader = (async () => {
    while (reading) {
      await read();
      reads += 1;
      await sleep(5);
    }
  })();
  let risen;
  try {
    risen = await waitFor('the hit ratio of categories to rise while it is read', async (seen) => {
      const row = await viewRow(page, 'categories');
      seen.last = JSON.stringify(row);
      return row && number(row.hitRatio) > baseRatio && number(row.hitRatio) >= 50 && /%/.test(row.hitRatio) &&
             number(row.readRate) > 0 ? row : undefined;
    }, { timeout: 10000 });
  } finally {
    reading = false;
    await reader;
  }
  check(true, `/console's hit ratio of categories rises from ${baseline.hitRatio} to ${risen.hitRatio} on repeated reads ` +
              `(read rate ${risen.readRate})`);
  const settled = await waitFor('the categories row to show the cumulative hits and misses of /metrics', async (seen) => {
    const row = await viewRow(page, 'categories');
    const text = (await httpGet(node.url, '/metrics')).text;
    const hits = metric(text, 'cqrsd_cache_hits_total', { view: 'categories' });
    const misses = metric(text, 'cqrsd_cache_misses_total', { view: 'categories' });
    seen.last = `${JSON.stringify(row)}; /metrics: hits ${hits}, misses ${misses}`;
    return row && number(row.hits) === hits && number(row.misses) === misses ? row : undefined;
  });
  check(number(settled.hits) + number(settled.misses) === reads + 1,
        `/console shows the cumulative hits (${settled.hits}) and misses (${settled.misses}) of /metrics after ${reads + 1} reads`);

  const problems = pageProblems(page);
  check(problems.length === 0 && page.record.dialogs.length === 0, '/console (objects) logged no error and opened no dialog',
        problems.concat(page.record.dialogs).join('; '));
  await screenshot(page, 'console-objects.png');
  await page.closeAll();
}

// -- the hostile node name ------------------------------------------------------

async function checkHostileName(node) {
  const page = await openPage('/console (hostile name)');
  // An alert, if anything ever calls it, sets a flag besides the dialog.
  await page.addInitScript(() => {
    window.__cqrsdInjected = false;
    const original = window.alert;
    window.alert = function alert(...a) {
      window.__cqrsdInjected = true;
      return original.apply(this, a);
    };
  });
  const response = await page.goto(`${node.url}/console`, { waitUntil: 'load', timeout: 30000 });
  if (response?.status() !== 200) fail(`/console answered ${response?.status()}`);
  // The data has arrived once #role shows it; then a poll more, and time
  // for an image error to fire.
  await waitText(page, '#role', 'standalone', 'the console to show the node\'s data');
  await sleep(1500);
  const state = await page.evaluate(() => ({
    flag: window.__cqrsdInjected,
    name: document.querySelector('#node-name').textContent,
    children: document.querySelector('#node-name').children.length,
    images: [...document.images].map((i) => i.getAttribute('src')),
  }));
  check(state.name === node.name && state.children === 0 && !state.images.includes('x'),
        'a node named <img src=x onerror=alert(1)> shows its name as text, with no element made of it', JSON.stringify(state));
  check(state.flag === false && page.record.dialogs.length === 0, 'that name runs no script: no dialog, no alert() call',
        JSON.stringify({ flag: state.flag, dialogs: page.record.dialogs }));
  // The two listeners do see a script that does run.
  await page.evaluate(() => setTimeout(() => alert('probe'), 0));
  await waitFor('the dialog of a probe alert', () => page.record.dialogs.length === 1, { timeout: 5000 });
  check(await page.evaluate(() => window.__cqrsdInjected) === true, 'the listeners see an alert that does run (probe)');
  const problems = pageProblems(page);
  check(problems.length === 0, '/console (hostile name) logged no error', problems.join('; '));
  await page.closeAll();
}

// -- http.read_token -----------------------------------------------------------

async function checkToken(node, token) {
  const page = await openPage('/console (read token)', `${node.url}/console`);
  const form = await waitFor('#token-form to show', async (seen) => {
    const e = await element(page, '#token-form');
    seen.last = JSON.stringify(e);
    return e?.visible ? e : undefined;
  });
  const before = await element(page, '#node-name');
  check(form.visible && before?.text !== node.name, '/console on a node with http.read_token shows the token form and no data',
        JSON.stringify(before));
  let unauthorized = 0;
  page.on('response', (r) => { if (r.url().endsWith('/status') && r.status() === 401) unauthorized += 1; });
  await page.fill('#token-input', 'not-the-token');
  await page.click('#token-submit');
  await waitFor('a /status answered 401 after a wrong token', () => unauthorized > 0, { timeout: 5000 });
  await sleep(300);
  const wrong = await element(page, '#token-form');
  const nameAfterWrong = await element(page, '#node-name');
  check(wrong?.visible && nameAfterWrong?.text !== node.name, '/console keeps the token form after a wrong token',
        JSON.stringify({ wrong, nameAfterWrong }));
  await page.fill('#token-input', token);
  await page.click('#token-submit');
  await waitText(page, '#node-name', node.name, 'the console to show the node name after the token');
  await waitText(page, '#seq', (t) => /^\d+$/.test(t), '#seq after the token');
  const after = await element(page, '#token-form');
  const stored = await page.evaluate(() => sessionStorage.getItem('cqrsd.token'));
  check(after && !after.visible && stored === token, '/console shows the data and hides the form after the right token, kept in sessionStorage',
        JSON.stringify({ after, stored }));
  const problems = pageProblems(page, [/Failed to load resource.*401/]);
  check(problems.length === 0, '/console (read token) logged no error but the 401s', problems.join('; '));
  await page.closeAll();
}

// Swagger UI's "Authorize" dialog: logs out of bearerAuth, then logs in
// with `token` unless it is empty.
async function authorize(page, token) {
  await page.locator('.auth-wrapper .btn.authorize').first().click({ timeout: 5000 });
  const modal = page.locator('.modal-ux');
  await modal.waitFor({ timeout: 5000 });
  const logout = modal.locator('.auth-btn-wrapper button', { hasText: /logout/i });
  if (await logout.count()) await logout.first().click();
  if (token) {
    await modal.locator('.auth-container input').first().fill(token, { timeout: 5000 });
    await modal.locator('.auth-btn-wrapper button.authorize', { hasText: /authorize/i }).first().click();
  }
  await modal.locator('.btn-done, button.close-modal').first().click({ timeout: 5000 });
  await modal.waitFor({ state: 'detached', timeout: 5000 });
}

async function checkDocsToken(node, token, read) {
  const page = await openPage('/docs (read token)', `${node.url}/docs`);
  const form = await waitFor('/docs to ask for the token', async (seen) => {
    const e = await element(page, '#token-form');
    seen.last = JSON.stringify(e);
    return e?.visible ? e : undefined;
  });
  check(form.visible && (await page.locator('.opblock').count()) === 0,
        '/docs on a node with http.read_token asks for the token and shows no operation before it');
  await page.fill('#token-input', token);
  await page.click('#token-submit');
  const shown = await renderedOperations(page);
  check(shown.includes(`GET ${read.path}`), '/docs shows the operations after the token');
  const withToken = await tryItOut(page, 'get', read.path, { id: read.id });
  check(withToken.code === 200 && withToken.body.includes(read.expect),
        '/docs with the token: Try it out shows 200 and the row', `${withToken.code}: ${withToken.body.slice(0, 200)}`);
  await authorize(page, '');
  const without = await tryItOut(page, 'get', read.path, { id: read.id });
  check(without.code === 401, '/docs after Logout in Authorize: Try it out shows 401', `${without.code}: ${without.body.slice(0, 300)}`);
  await authorize(page, token);
  const again = await tryItOut(page, 'get', read.path, { id: read.id });
  check(again.code === 200 && again.body.includes(read.expect),
        '/docs after Authorize with the token: Try it out shows 200 again', `${again.code}: ${again.body.slice(0, 200)}`);
  const problems = pageProblems(page, [/Failed to load resource.*401/]);
  check(problems.length === 0, '/docs (read token) logged no error but the 401s', problems.join('; '));
  await page.closeAll();
}

// -- the cluster ----------------------------------------------------------------

async function checkCluster() {
  const clusterPort = await freePort();
  const shared = makeTempDir('cluster-db');
  const database = { sqlite_path: path.join(shared, 'cqrsd.db') };
  const clusterSettings = { heartbeat_interval_ms: 100, missed_heartbeats: 3, reconnect_initial_ms: 100, reconnect_max_ms: 500 };
  const command = await new Node('cluster-command', {
    node: { role: 'command' }, database: { ...database },
    cluster: { listen: `127.0.0.1:${clusterPort}`, ...clusterSettings },
  }).start();
  const query = await new Node('cluster-query', {
    node: { role: 'query' }, database: { ...database },
    cluster: { command_node: `127.0.0.1:${clusterPort}`, ...clusterSettings },
  }).start();
  const linkOf = async (node) => (await status(node)).command_node;
  await waitFor('the query node to link', async (seen) => (seen.last = await linkOf(query)) === 'linked');

  const page = await openPage('/console (cluster query node)', `${query.url}/console`);
  await waitText(page, '#role', 'query', 'the console to show role query');
  const linked = await waitFor('#link-state linked', async (seen) => {
    const e = await element(page, '#link-state');
    seen.last = JSON.stringify(e);
    return e?.state === 'linked' ? e : undefined;
  });
  check(linked.text === 'linked', '/console on a query node shows the link to its command node as linked');
  const first = await write(query, '/categories', { description: 'through the query node' });
  await waitSeq(page, first.seq, `#seq ${first.seq} on the query node`);
  pass(`/console on the query node shows seq ${first.seq} after a write through it`);

  const killedAt = Date.now();
  command.killNow();
  await Promise.race([command.proc.exitPromise, sleep(5000)]);
  check(command.exited === 'signal SIGKILL', 'the command node is killed with SIGKILL', command.exited);
  await waitFor('/status of the query node to say unreachable', async (seen) => (seen.last = await linkOf(query)) === 'unreachable',
                { timeout: 15000 });
  const lost = await waitFor('#link-state to show unreachable after SIGKILL of the command node', async (seen) => {
    const e = await element(page, '#link-state');
    seen.last = JSON.stringify(e);
    return e?.state === 'unreachable' ? e : undefined;
  }, { timeout: 15000 });
  const caches = await waitFor('#caches-state bypassed', async (seen) => {
    const e = await element(page, '#caches-state');
    seen.last = JSON.stringify(e);
    return e?.state === 'bypassed' ? e : undefined;
  });
  check(lost.text === 'unreachable' && caches.text === 'bypassed',
        `/console shows the link as unreachable and caches bypassed ${seconds(Date.now() - killedAt)} after the command node's SIGKILL`);
  await screenshot(page, 'console-cluster-link-lost.png');

  const restartedAt = Date.now();
  await command.start();
  await waitFor('/status of the query node to say linked again', async (seen) => (seen.last = await linkOf(query)) === 'linked',
                { timeout: 20000 });
  const back = await waitFor('#link-state to show linked after the command node restarted', async (seen) => {
    const e = await element(page, '#link-state');
    seen.last = JSON.stringify(e);
    return e?.state === 'linked' ? e : undefined;
  }, { timeout: 20000 });
  check(back.text === 'linked', `/console shows the link as linked again ${seconds(Date.now() - restartedAt)} after the command node restarted`);
  const second = await write(query, '/categories', { description: 'after the restart' });
  await waitSeq(page, second.seq, `#seq ${second.seq} after the restart`);
  pass(`/console on the query node shows seq ${second.seq} after a write through the restored link`);
  const problems = pageProblems(page);
  check(problems.length === 0, '/console (cluster) logged no error', problems.join('; '));
  await page.closeAll();
  await query.stop();
  await command.stop();
}

// -- main -----------------------------------------------------------------------

async function cleanup() {
  if (browser) await Promise.race([browser.close().catch(() => {}), sleep(10000)]);
  await Promise.all([...nodes].map((n) => n.stop('SIGTERM')));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}

// Last resort when the process ends another way: no cqrsd outlives the run.
process.on('exit', () => {
  for (const n of nodes) n.killNow();
  for (const dir of tempDirs) try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* nop */ }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    console.log(`pages.mjs: FAILED: got ${signal}`);
    process.exit(1);
  });

// The scenarios, in order; --only <name,...> runs some of them.
const scenarios = {
  // The built-in objects domain: the assets, /console and /docs.
  async objects() {
    const objects = await new Node('browser-objects', { query: { actors: 4 } }).start();
    await checkAssets(objects);
    await checkConsoleObjects(objects);
    const category = await write(objects, '/categories', { description: 'shown in /docs' });
    await checkDocs(objects, 'objects', { path: '/categories/{id}', id: category.id, expect: 'shown in /docs' }, 'docs-objects.png');
    await objects.stop();
  },

  // The library domain: /docs, and the views in /console.
  async library() {
    const library = await new Node('browser-library', { domain: path.join(sourceDir, 'domains/library.yaml') }).start();
    const libStatus = await status(library);
    check(libStatus.domain.name === 'library', 'the library node serves domains/library.yaml', JSON.stringify(libStatus.domain));
    const country = await write(library, '/countries', { code: 'NZ', name: 'New Zealand' });
    await checkDocs(library, 'library', { path: '/countries/{id}', id: country.id, expect: 'New Zealand' }, 'docs-library.png');
    const page = await openPage('/console (library)', `${library.url}/console`);
    await waitText(page, '#domain-name', 'library', 'the console of the library node to show domain library');
    await httpGet(library.url, `/countries/${country.id}`);
    const views = await waitFor('#views to list the views read so far', async (seen) => {
      const v = await page.evaluate(() => [...document.querySelectorAll('#views tbody tr')].map((tr) => tr.getAttribute('data-view')));
      seen.last = JSON.stringify(v);
      return v.includes('countries') ? v : undefined;
    });
    pass(`/console of the library node lists its views ${views.join(', ')}`);
    await page.closeAll();
    await library.stop();
  },

  // A node named like an HTML tag with a script.
  async hostile() {
    const hostile = await new Node('browser-hostile', { node: { name: '<img src=x onerror=alert(1)>' } }).start();
    await checkHostileName(hostile);
    await hostile.stop();
  },

  // http.read_token on /console and /docs.
  async token() {
    const token = randomBytes(16).toString('hex');
    const guarded = await new Node('browser-token', { http: { read_token: token } }).start();
    const row = await write(guarded, '/categories', { description: 'behind the token' });
    await checkToken(guarded, token);
    await checkDocsToken(guarded, token, { path: '/categories/{id}', id: row.id, expect: 'behind the token' });
    await guarded.stop();
  },

  // A command node and a query node on one SQLite file.
  cluster: checkCluster,
};

async function main() {
  const only = args.only ? args.only.split(',') : Object.keys(scenarios);
  for (const name of only) if (!scenarios[name]) usage(`--only: no scenario ${name} (${Object.keys(scenarios).join(', ')})`);
  if (!fs.existsSync(cqrsdBinary)) fail(`no cqrsd binary at ${cqrsdBinary}`);
  if (!fs.existsSync(chromiumPath)) fail(`no chromium at ${chromiumPath} (scripts/deps.sh installs Debian's chromium; CQRSD_CHROMIUM overrides the path)`);
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir)) if (f.endsWith('.png')) fs.rmSync(path.join(outDir, f));
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'], timeout: 30000 });
  note(`chromium ${browser.version()} from ${chromiumPath}; cqrsd ${cqrsdBinary}; screenshots into ${outDir}`);
  for (const name of only) {
    const t0 = Date.now();
    note(`scenario ${name}`);
    await scenarios[name]();
    note(`scenario ${name} took ${seconds(Date.now() - t0)}`);
  }
}

const watchdog = setTimeout(() => {
  console.log(`pages.mjs: FAILED: the whole run took longer than ${seconds(overallTimeoutMs)} (--timeout)`);
  for (const n of nodes) console.log(`--- log of ${n.label} (${n.logPath}):\n${n.logTail(2000)}`);
  process.exit(1);
}, overallTimeoutMs);

let exitCode = 0;
try {
  await main();
  console.log('what each page transferred until its screenshot or close: the sum of its response bodies (of them its');
  console.log('/console or /docs files: "assets"; the rest are API requests and polls), and those bodies as sent (compressed):');
  for (const r of pageReports)
    console.log(`  ${r.label}: ${r.bytes} bytes in ${r.responses} responses (assets ${r.assetBytes} bytes), ` +
                `${r.wireBytes} bytes as sent` + (r.screenshot ? `; screenshot ${r.screenshot}` : ''));
  console.log(`pages.mjs: all checks passed in ${seconds(Date.now() - started)}`);
} catch (e) {
  exitCode = 1;
  if (e instanceof CheckFailed) {
    console.log(`FAILED: ${e.message}`);
  } else {
    console.log(`FAILED: unexpected error: ${e.stack || e}`);
  }
  for (const n of nodes) console.log(`--- log of cqrsd ${n.label} (${n.logPath}):\n${n.logTail(3000)}`);
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
console.log(`browser: ${passed} passed, ${exitCode} failed`);
process.exit(exitCode);
