// Swish at the kiosk in the browser, demo-style, against the real box and klinikbox-sim: a
// booked patient checks in, chooses Swish and a QR code; the kiosk shows the code the box
// drew from the request's token; the simulator refuses to settle the request until the code
// was "scanned" (its steering call, with the token from the kiosk's app link); after the
// scan the payment goes through and the kiosk says so.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startBox, launch, login, waitForMessage, newPage, waitTimeout, registerKiosk} from './box.mjs';

const buildDir = process.env.KB_BUILD_DIR || new URL('../../build', import.meta.url).pathname;
const unit = 'SE2321000016-U001';
let box, browser, page, sim, simDir;

async function startSim() {
  simDir = mkdtempSync(join(tmpdir(), 'kb-e2e-sim-'));
  const proc = spawn(join(buildDir, 'tests', 'sim', 'klinikbox-sim'), ['--state-dir', simDir, '--timeout-ms', '3000'],
    {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`klinikbox-sim did not start: ${out}`)), 30000);
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) { clearTimeout(timer); resolve(JSON.parse(out.split('\n')[0])); }
    });
    proc.on('exit', (code) => reject(new Error(`klinikbox-sim exited with ${code}`)));
  });
  return {...ready, proc};
}

const steer = async (method, path, body) => {
  const r = await fetch(`${sim.http}${path}`, {method, headers: {'Content-Type': 'application/json'}, body: body ? JSON.stringify(body) : undefined});
  const text = await r.text();
  return {status: r.status, body: text ? JSON.parse(text) : null};
};

before(async () => {
  sim = await startSim();
  box = await startBox({plugins: ['booking', 'checkin'], clockStart: '2026-11-25T07:50:00Z',
    extraConfig: `  settings:\n    checkin:\n      care_unit: ${unit}\n      clinic_name: Vårdcentralen Norr\n` +
      '      fees:\n        tariffs:\n          - {name: Läkarbesök, profession: läkare, fee_ore: 30000}\n' +
      `      swish:\n        enabled: true\n        url: ${sim.https}/swish-cpcapi\n        payee_alias: "1231181189"\n` +
      `        client_cert: ${sim.client_cert}\n        client_key: ${sim.client_key}\n        ca_bundle: ${sim.ca}\n` +
      '        callback_url: "https://127.0.0.1/api/v1/checkin/swish/callback"\n'});
  ({browser, page} = await launch());
  await login(page, box.url, 'admin', box.password);
  const status = await page.evaluate(async (u) => {
    const s = await (await fetch('/api/v1/auth/session')).json();
    const post = async (path, body) => (await fetch(path, {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token}, body: JSON.stringify(body)})).status;
    const codes = [
      await post('/api/v1/booking/units', {hsa_id: u, name: 'Vårdcentralen Norr', address: 'Storgatan 1'}),
      await post('/api/v1/booking/practitioners', {hsa_id: 'SE2321000016-P001', name: 'Eva Ek', profession: 'läkare', unit: u}),
      await post('/api/v1/booking/visittypes', {id: 'lak30', name: 'Läkarbesök', visit_form: 'physical', minutes: 30, profession: 'läkare'}),
      await post('/api/v1/booking/schedules', {practitioner: 'SE2321000016-P001', visit_type: 'lak30', weekdays: [1, 2, 3, 4, 5],
        start: '08:00', end: '17:00', valid_from: '2026-01-01', valid_to: '2099-12-31'})];
    const slots = await (await fetch(`/api/v1/booking/timeslots?unit=${u}&date=2026-11-25`)).json();
    const nine = slots.timeslots.find((x) => x.startTimeInclusive.includes('T09:00'));
    const half = slots.timeslots.find((x) => x.startTimeInclusive.includes('T09:30'));
    codes.push(await post('/api/v1/booking/bookings', {slot_id: nine.slot_id, patient: '199001012385'}));
    codes.push(await post('/api/v1/booking/bookings', {slot_id: half.slot_id, patient: '198507099805'}));
    return codes;
  }, unit);
  assert.deepEqual(status, [201, 201, 201, 201, 201, 201]);
  // The demo's payer approves by themselves, but only a request that was scanned.
  assert.equal((await steer('POST', '/sim/api/swish/auto', {status: 'PAID', delay_ms: 500})).status, 204);
});

after(async () => {
  await browser?.close();
  await box?.stop();
  if (sim) {
    sim.proc.kill('SIGTERM');
    await new Promise((r) => sim.proc.once('exit', r));
  }
  if (simDir) rmSync(simDir, {recursive: true, force: true});
});

test('a kiosk check-in ends with a Swish QR code that is paid only after it was scanned', async () => {
  const kiosk = await newPage(browser);
  assert.equal(await registerKiosk(kiosk, box.url, box.password), 201);
  await kiosk.goto(`${box.url}/kiosk`);
  await kiosk.getByLabel('Personnummer').fill('19900101-2385');
  await kiosk.getByRole('button', {name: 'Checka in'}).click();
  await kiosk.getByRole('heading', {name: 'Du är incheckad'}).waitFor();
  await kiosk.getByRole('button', {name: 'Betala med Swish'}).click();
  await kiosk.getByRole('button', {name: 'Visa QR-kod att skanna'}).click();
  const qr = kiosk.getByRole('img', {name: 'QR-kod för betalning med Swish'});
  await qr.waitFor();
  const size = await qr.boundingBox();
  assert.ok(size.width >= 150 && Math.abs(size.width - size.height) < 2, `a square code large enough to scan: ${JSON.stringify(size)}`);
  assert.ok(await qr.locator('path').count() === 1, 'drawn by the box as one SVG path');

  // The patient's own phone would follow the app switch link; the kiosk shows it too.
  const href = await kiosk.getByRole('link', {name: /Öppna Swish/}).getAttribute('href');
  assert.match(href, /^swish:\/\/paymentrequest\?token=[0-9a-f]{32}&callbackurl=https%3A%2F%2F/);
  const token = new URL(href.replace('swish://', 'https://x/')).searchParams.get('token');

  // Not scanned yet: the simulator cannot settle it, and the kiosk keeps waiting.
  const reqs = (await steer('GET', '/sim/api/swish/paymentrequests')).body.items;
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].payerAlias, '', 'm-commerce: no payer alias');
  assert.equal((await steer('POST', `/sim/api/swish/paymentrequests/${reqs[0].id}/settle`, {status: 'PAID'})).status, 409);
  await waitForMessage(kiosk, 'Väntar på betalningen …');
  assert.equal(await kiosk.getByText('Betalningen är klar.').count(), 0);

  // Scanned (the QR code's text is "D" + the token): the payer approves and the kiosk follows.
  assert.equal((await steer('POST', '/sim/api/swish/scan', {code: `D${token}`})).status, 204);
  await waitForMessage(kiosk, 'Betalningen är klar.', {timeout: waitTimeout});
  const after = (await steer('GET', '/sim/api/swish/paymentrequests')).body.items;
  assert.equal(after[0].status, 'PAID');
  await kiosk.close();
});

test('a patient may type a mobile number instead of scanning', async () => {
  const kiosk = await newPage(browser);
  assert.equal(await registerKiosk(kiosk, box.url, box.password), 201);
  await kiosk.goto(`${box.url}/kiosk`);
  await kiosk.getByLabel('Personnummer').fill('19850709-9805');
  await kiosk.getByRole('button', {name: 'Checka in'}).click();
  await kiosk.getByRole('heading', {name: 'Du är incheckad'}).waitFor();
  await kiosk.getByRole('button', {name: 'Betala med Swish'}).click();
  await kiosk.getByLabel('Ditt mobilnummer').fill('070-123 45 67');
  await kiosk.getByRole('button', {name: 'Skicka till min Swish'}).click();
  await waitForMessage(kiosk, 'Öppna Swish i din telefon och godkänn 300 kr.');
  // e-commerce: the request is in the payer's app at once; no QR code, no scan.
  assert.equal(await kiosk.getByRole('img', {name: 'QR-kod för betalning med Swish'}).count(), 0);
  await waitForMessage(kiosk, 'Betalningen är klar.');
  const reqs = (await steer('GET', '/sim/api/swish/paymentrequests')).body.items;
  assert.ok(reqs.some((r) => r.payerAlias === '46701234567' && r.status === 'PAID'));
  await kiosk.close();
  // Staff see both Swish payments in the day report.
  const day = await page.evaluate(async () => (await fetch('/api/v1/checkin/day?date=2026-11-25')).json());
  assert.deepEqual(day.visits.map((v) => [v.payment.method, v.payment.status]), [['swish', 'paid'], ['swish', 'paid']]);
  assert.equal(day.paid_ore_by_method.swish, 60000);
});
