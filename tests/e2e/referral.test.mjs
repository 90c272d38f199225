// The referral plugin in the browser: an admin adds the simulated hospital's radiology to the
// receiver directory, writes a referral and sends it; it reaches the simulator (valid against
// the XSD) and the outgoing list shows it. When the hospital asks for completion (KOM), the
// staff complete it from its view and it goes again as version 2; then they cancel it (AVB).
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startBox, launch, login, waitForMessage} from './box.mjs';

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
  await page.getByLabel('Aktuellt status', {exact: true}).fill('Svullen, ömmar över radius.');
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

async function simPost(path, body) {
  const r = await fetch(`${simInfo.http}${path}`, {method: 'POST', body: JSON.stringify(body)});
  assert.ok(r.ok, `${path}: ${r.status}`);
  return r.status === 204 ? null : r.json();
}

async function simReceived(filter) {
  const r = await fetch(`${simInfo.http}/sim/api/referral/received`);
  const items = (await r.json()).items.filter(filter);
  return items.length ? items : null;
}

// Opens an outgoing referral's view: the one whose request id is given (its id follows the '#').
async function openReferral(requestId) {
  const id = requestId.slice(requestId.indexOf('#') + 1);
  await page.getByRole('button', {name: 'Utgående'}).click();
  await page.locator(`table[data-list="outgoing"] tr[data-id="${id}"]`).getByRole('button', {name: 'Visa'}).click();
  // The view names sender and receiver (by name from the directory); its id is a row of its own.
  await page.getByRole('heading', {name: /^Remiss: .+ → Röntgen/}).waitFor();
  await page.locator('article.printable dd', {hasText: requestId}).waitFor();
}

test('staff complete a referral the hospital asked to complete, then cancel it', async () => {
  // The hospital answers nothing by itself now; the test answers for it, to the box's
  // producer listener.
  const producer = await waitFor(() => box.output().match(/producer listener \(mutual TLS\) on (\S+)/)?.[1]);
  await simPost('/sim/api/referral/config', {box_url: producer, parties: {'SE2321000016-RAD1': {confirm: '', outcome: ''}}});
  await page.getByRole('button', {name: 'Skriv remiss'}).click();
  await page.getByLabel(/Patient \(personnummer/).fill('19121212-1212');
  await page.getByLabel('Mottagare').selectOption('SE2321000016-RAD1');
  await page.getByLabel('Frågeställning').fill('Knäskada?');
  await page.getByLabel('Anamnes').fill('Vred knät.');
  await page.getByRole('button', {name: 'Skicka'}).click();
  await page.locator('table[data-list="outgoing"] tr[data-id]').first().waitFor();
  const [sent] = await waitFor(() => simReceived((i) => i.operation === 'ProcessRequest' && i.question === 'Knäskada?'));
  const answer = await simPost('/sim/api/referral/answer', {
    code: 'KOM', from: 'SE2321000016-RAD1', to: 'SE2321000016-VC01', request_id: sent.request_id, text: 'Ange vilket knä.',
  });
  assert.equal(answer.result_code, 'OK', answer.response);

  await openReferral(sent.request_id);
  await page.getByRole('definition').filter({hasText: 'Komplettering begärd'}).waitFor();
  await page.getByText('Komplettering begärd: Ange vilket knä.').waitFor();
  await page.getByRole('button', {name: 'Komplettera', exact: true}).click();
  await page.getByRole('heading', {name: 'Komplettera remissen'}).waitFor();
  assert.equal(await page.getByLabel('Frågeställning').inputValue(), 'Knäskada?');
  await page.getByLabel('Anamnes').fill('Vred vänster knä.');
  await page.getByRole('button', {name: 'Skicka'}).click();
  const [v2] = await waitFor(() => simReceived((i) => i.operation === 'ProcessRequest' && i.request_id === sent.request_id &&
    i.version === 2));
  assert.equal(v2.valid, true, v2.schema_errors);
  assert.equal(v2.anamnesis, 'Vred vänster knä.');

  // Delivered, the referral can be cancelled (the view shows the form once it is sent).
  await waitFor(async () => {
    await openReferral(sent.request_id);
    return (await page.getByRole('button', {name: 'Avbryt remissen'}).count()) === 1;
  });
  await page.getByLabel('Skäl till att remissen avbryts').fill('Patienten är frisk.');
  await page.getByRole('button', {name: 'Avbryt remissen'}).click();
  await waitForMessage(page, 'Remissen är avbruten.');
  const [avb] = await waitFor(() => simReceived((i) => i.operation === 'ProcessRequestConfirmation' &&
    i.request_id === sent.request_id && i.code === 'AVB'));
  assert.equal(avb.valid, true, avb.schema_errors);
  assert.equal(await page.getByRole('button', {name: 'Avbryt remissen'}).count(), 0);
});

// Staff read the directory; only an admin changes it, so staff get no buttons that would
// answer "no permission".
test('staff see the receiver directory without the admin\'s buttons', async () => {
  box.cli(['user', 'add', '--username', 'skot', '--role', 'staff', '--password-stdin'], 'personal lösenord 123\n');
  await page.getByRole('button', {name: 'Logga ut'}).click();
  await login(page, box.url, 'skot', 'personal lösenord 123');
  await page.getByRole('link', {name: 'Remissmottagare'}).click();
  await page.getByRole('cell', {name: 'Röntgen Sjukhuset'}).waitFor();
  await page.locator('main').getByText('Katalogen ändras av en administratör.').waitFor();
  assert.equal(await page.locator('main').getByRole('button', {name: /Ta bort|Spara mottagare|Importera/}).count(), 0);
});
