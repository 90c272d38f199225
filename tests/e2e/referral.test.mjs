// The referral plugin in the browser: an admin adds the simulated hospital's radiology to the
// receiver directory, writes a referral and sends it; it reaches the simulator (valid against
// the XSD) and the outgoing list shows it.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startBox, launch, login} from './box.mjs';

const buildDir = process.env.KB_BUILD_DIR || new URL('../../build', import.meta.url).pathname;
let box, browser, page, sim, simDir, simInfo;

async function startSim() {
  simDir = mkdtempSync(join(tmpdir(), 'kb-e2e-sim-'));
  sim = spawn(join(buildDir, 'tests', 'sim', 'klinikbox-sim'), ['--state-dir', simDir, '--timeout-ms', '3000'],
    {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`klinikbox-sim did not start:\n${out}`)), 30000);
    sim.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
  });
}

async function waitFor(fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  simInfo = await startSim();
  const pki = join(simDir, 'pki');
  box = await startBox({
    plugins: ['referral'],
    extraConfig: '  settings:\n    referral:\n      units: [SE2321000016-VC01]\n      unit_name: Vårdcentralen Norr\n' +
      `      client_cert: ${simInfo.client_cert}\n      client_key: ${simInfo.client_key}\n      ca: ${simInfo.ca}\n` +
      `producer:\n  enabled: true\n  port: 0\n  cert_file: ${pki}/server.pem\n  key_file: ${pki}/server.key\n` +
      `  client_ca_file: ${simInfo.ca}\n`,
  });
  ({browser, page} = await launch());
  await login(page, box.url, 'admin', box.password);
});

after(async () => {
  await browser?.close();
  await box?.stop();
  sim?.kill('SIGTERM');
  if (simDir) rmSync(simDir, {recursive: true, force: true});
});

test('an admin adds a receiver, writes a referral and sends it to the hospital', async () => {
  await page.getByRole('link', {name: 'Remissmottagare'}).click();
  await page.getByRole('heading', {name: 'Remissmottagare', exact: true}).first().waitFor();
  await page.getByLabel('HSA-id').fill('SE2321000016-RAD1');
  await page.getByLabel('Namn').fill('Röntgen Sjukhuset');
  await page.getByLabel('Tar emot').fill('röntgen');
  await page.getByLabel('Adress (https)').fill(`${simInfo.https}/referral/SE2321000016-RAD1/ProcessRequest`);
  await page.getByRole('button', {name: 'Spara mottagare'}).click();
  await page.getByRole('cell', {name: 'Röntgen Sjukhuset'}).waitFor();

  await page.getByRole('link', {name: 'Remisser', exact: true}).click();
  await page.getByRole('heading', {name: 'Remisser', exact: true}).first().waitFor();
  await page.getByRole('button', {name: 'Skriv remiss'}).click();
  await page.getByLabel(/Patient \(personnummer/).fill('19121212-1212');
  await page.getByLabel('Mottagare').selectOption('SE2321000016-RAD1');
  await page.getByLabel('Prioritet').selectOption('akut');
  await page.getByLabel('Frågeställning').fill('Fraktur i handleden?');
  await page.getByLabel('Anamnes').fill('Föll på isen i går.');
  await page.getByLabel('Status', {exact: true}).fill('Svullen, ömmar över radius.');
  await page.getByLabel('Önskad undersökning eller åtgärd').fill('Röntgen höger handled');
  await page.getByLabel('Patienten är informerad om remissen').check();
  await page.getByRole('button', {name: 'Skicka'}).click();
  // The outgoing list replaces the form once the referral is queued.
  await page.locator('table[data-list="outgoing"] tr[data-id]').first().waitFor();
  const received = await waitFor(async () => {
    const r = await fetch(`${simInfo.http}/sim/api/referral/received`);
    const items = (await r.json()).items.filter((i) => i.operation === 'ProcessRequest');
    return items.length ? items : null;
  });
  assert.equal(received.length, 1);
  assert.equal(received[0].valid, true, received[0].schema_errors);
  assert.equal(received[0].patient, '191212121212');
  assert.equal(received[0].party, 'SE2321000016-RAD1');
});
