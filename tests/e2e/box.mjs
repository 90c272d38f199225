// Starts the real klinikbox for a browser test: its own data directory, an ephemeral port,
// TLS on (self-signed), development mode, and an admin created through the CLI.
import {spawn, execFileSync} from 'node:child_process';
import {mkdtempSync, writeFileSync, rmSync, mkdirSync, cpSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';

const buildDir = process.env.KB_BUILD_DIR || new URL('../../build', import.meta.url).pathname;
export const bin = join(buildDir, 'bin', 'klinikbox');

const sourceDir = new URL('../..', import.meta.url).pathname;

// A native plugin of plugins/ as built, in a development plugin set.
function pluginInto(dir, id) {
  const to = join(dir, 'plugins', id);
  const from = join(sourceDir, 'plugins', id);
  mkdirSync(to, {recursive: true});
  for (const f of ['plugin.yaml', 'schema.yaml']) cpSync(join(from, f), join(to, f));
  for (const d of ['migrations', 'web']) cpSync(join(from, d), join(to, d), {recursive: true});
  cpSync(join(buildDir, 'plugins', id, `lib${id}.so`), join(to, `lib${id}.so`));
}
const helloSet = (dir) => pluginInto(dir, 'hello');

// A demo-region PKI and a zip of the hello plugin certified with it (DEMO ONLY keys).
export function signedHelloZip(dir, sequence) {
  const pki = join(dir, 'pki');
  const demo = join(sourceDir, 'config', 'demo-region');
  execFileSync('sh', [join(demo, 'make-demo-pki.sh'), pki], {stdio: 'ignore'});
  const plugins = join(dir, `src${sequence}`);
  const set = join(dir, `set${sequence}`);
  helloSet(plugins);
  execFileSync('sh', [join(demo, 'sign-demo-set.sh'), join(plugins, 'plugins'), set, pki, bin, String(sequence)], {stdio: 'ignore'});
  const zip = join(dir, `set${sequence}.zip`);
  execFileSync(bin, ['pluginset', 'pack', set, '-o', zip], {stdio: 'ignore'});
  return {zip, trust: join(pki, 'trust')};
}

// scripts: {file: source} hook scripts written to a lua.scripts_dir of the box.
// plugins: ids of native plugins of plugins/ to load (besides withHello).
// extraConfig: YAML appended under plugins: (e.g. "  settings:\n    checkin: ..."); clockStart: box.clock_start.
// firstRun: no admin is created; the box prints its setup link (setupLink() returns it).
export async function startBox({withHello = false, trustDir = '', scripts = null, plugins = [], extraConfig = '', clockStart = '',
  firstRun = false} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kb-e2e-'));
  const config = join(dir, 'klinikbox.yaml');
  mkdirSync(join(dir, 'plugins'));
  if (withHello) helloSet(dir);
  for (const id of plugins) pluginInto(dir, id);
  if (scripts) {
    mkdirSync(join(dir, 'scripts'));
    for (const [f, src] of Object.entries(scripts)) writeFileSync(join(dir, 'scripts', f), src);
  }
  writeFileSync(config, `box:\n  mode: development\n  data_dir: ${join(dir, 'data')}\n` +
    (clockStart ? `  clock_start: "${clockStart}"\n` : '') +
    `server:\n  listen: 127.0.0.1\n  port: 0\nplugins:\n  set: ${join(dir, 'plugins')}\n` +
    (trustDir ? `  trust_dir: ${trustDir}\n` : '') + extraConfig +
    (scripts ? `lua:\n  scripts_dir: ${join(dir, 'scripts')}\n` : '') +
    // A development box may hash passwords at 1 MiB instead of 64 (docs/security.md): every
    // test logs in, and the unit tests check the real cost. Not when the test sets its own.
    (/(^|\n)security:/.test(extraConfig) ? '' : 'security:\n  password_hash_log2n: 10\n'));
  const password = 'e2e chefens lösenord 42';
  if (!firstRun) {
    execFileSync(bin, ['user', 'add', '--username', 'admin', '--role', 'admin', '--name', 'Anna Admin',
      '--password-stdin', '--config', config], {input: `${password}\n`});
  }
  const proc = spawn(bin, ['serve', '--config', config], {stdio: ['ignore', 'pipe', 'pipe']});
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`klinikbox did not start:\n${output}`)), 30000);
    const onData = (d) => {
      output += d;
      const m = output.match(/listening on (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`klinikbox exited with ${code}:\n${output}`)));
  });
  return {
    url, config, password, dir,
    // What the box printed so far (e.g. the producer listener's address).
    output: () => output,
    // The last first-run setup link the box printed (firstRun).
    setupLink: () => [...output.matchAll(/(https?:\/\/\S+\/setup\.html#token=[\w-]+)/g)].pop()?.[1],
    cli(args, input) {
      return execFileSync(bin, [...args, '--config', config], {input, encoding: 'utf8'});
    },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, {recursive: true, force: true});
    },
  };
}

// A browser as at a Swedish clinic: Swedish language and Swedish time. The console shows days
// and times in the box's zone whatever the PC's (booking.test.mjs checks a PC in another
// zone); the tests themselves count days in Swedish time (swedishDay).
export const swedishPc = {ignoreHTTPSErrors: true, locale: 'sv-SE', timezoneId: 'Europe/Stockholm'};

// The day and hour in Swedish time, as the box and the Swedish PC count them (the test runner
// itself may run in UTC).
export const swedishDay = (d = new Date()) => d.toLocaleDateString('sv-SE', {timeZone: 'Europe/Stockholm'});
export const swedishHour = (d = new Date()) =>
  Number(d.toLocaleString('sv-SE', {timeZone: 'Europe/Stockholm', hour: '2-digit', hourCycle: 'h23'}));

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.KB_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({...swedishPc, viewport: {width: 1024, height: 768}});
  context.setDefaultTimeout(waitTimeout);
  return {browser, context, page: await context.newPage()};
}

// How long a browser test waits for a condition. Generous on purpose: the tests run on a
// loaded 2-core machine next to builds, and waiting for a condition costs nothing when it is
// already true.
export const waitTimeout = 60000;

// A message the page shows (a confirmation, a field's error, a result). The console, the
// kiosk and the patient pages repeat every announced message in a live region (#status,
// outside main) for screen readers, so a text locator on the whole page can match twice
// (Playwright's strict mode fails) or match the live region's copy before main shows it.
// Messages are looked for inside main only.
export function message(page, text) {
  return page.locator('main').getByText(text);
}

// Shows the booking day view of `date` (YYYY-MM-DD) and waits until it has replaced the view
// shown before: the page opens on today, and a click right after "Visa" could land in
// today's rows while the other day is still loading.
export async function showDay(page, date) {
  const rows = page.locator('main tbody tr');
  await rows.first().waitFor();
  const before = await rows.first().elementHandle();
  await page.getByLabel('Datum').fill(date);
  await page.getByRole('button', {name: 'Visa'}).click();
  await before.waitForElementState('hidden');
  await rows.first().waitFor();
}

// A page of its own (the kiosk, a patient's browser) with the same generous timeout.
export async function newPage(browser) {
  const page = await browser.newPage({...swedishPc});
  page.setDefaultTimeout(waitTimeout);
  return page;
}

// Waits until main shows `text` (a string or a RegExp).
export async function waitForMessage(page, text, {timeout = waitTimeout} = {}) {
  await message(page, text).waitFor({timeout});
}

export async function login(page, url, username, password) {
  await page.goto(`${url}/`);
  await page.getByLabel('Användarnamn').fill(username);
  await page.getByLabel('Lösenord').fill(password);
  await page.getByRole('button', {name: 'Logga in'}).click();
  await page.getByRole('heading', {name: 'Översikt'}).waitFor();
}

// Registers the browser of `page` as the clinic's check-in kiosk (anonymous check-in needs a
// registered device): an admin logs in inside that browser, registers it, and logs out again.
// Returns the registration's HTTP status.
export async function registerKiosk(page, url, password, name = 'Väntrummet') {
  await page.goto(`${url}/`);
  return page.evaluate(async ({password, name}) => {
    const json = {'Content-Type': 'application/json'};
    const li = await (await fetch('/api/v1/auth/login', {method: 'POST', headers: json, body: JSON.stringify({username: 'admin', password})})).json();
    const headers = {...json, 'X-CSRF-Token': li.csrf_token};
    const r = await fetch('/api/v1/checkin/kiosks', {method: 'POST', headers, body: JSON.stringify({name})});
    await fetch('/api/v1/auth/logout', {method: 'POST', headers});
    return r.status;
  }, {password, name});
}
