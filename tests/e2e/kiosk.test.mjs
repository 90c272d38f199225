// The check-in kiosk in the browser, on a touch screen (hasTouch, mobile-size viewport): the
// kiosk is registered by an admin, a booked patient checks in with the on-screen keypad and
// sees time, room and fee, a booking without a room shows no room, the patient can switch to
// English, the inactivity timeout clears the screen (nothing typed is left, back to Swedish),
// a phone without the kiosk's code is refused, and axe finds 0 WCAG 2.1 A/AA violations.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {createRequire} from 'node:module';
import {readFileSync} from 'node:fs';
import {startBox, launch, login, waitForMessage, waitTimeout, registerKiosk, swedishPc} from './box.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let box, browser, page, kioskContext;
const unit = 'SE2321000016-U001';

// A touch screen the size of a phone or small kiosk panel.
async function touchContext() {
  const context = await browser.newContext({...swedishPc, hasTouch: true, isMobile: true,
    viewport: {width: 412, height: 915}, bypassCSP: true});
  context.setDefaultTimeout(waitTimeout);
  return context;
}

async function axeViolations(p) {
  await p.evaluate(axeSource);
  const result = await p.evaluate(() => window.axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}));
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

async function tapDigits(p, digits) {
  const pad = p.getByRole('group', {name: /Sifferknappar|Number keys/});
  for (const d of digits) await pad.getByRole('button', {name: d, exact: true}).tap();
}

before(async () => {
  box = await startBox({plugins: ['booking', 'checkin'], clockStart: '2026-11-25T07:50:00Z',
    extraConfig: `  settings:\n    checkin:\n      care_unit: ${unit}\n      clinic_name: Vårdcentralen Norr\n` +
      '      fees:\n        tariffs:\n          - {name: Läkarbesök, profession: läkare, fee_ore: 30000}\n'});
  ({browser, page} = await launch());
  await login(page, box.url, 'admin', box.password);
  const status = await page.evaluate(async (u) => {
    const s = await (await fetch('/api/v1/auth/session')).json();
    const post = async (path, body) => (await fetch(path, {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token}, body: JSON.stringify(body)})).status;
    const codes = [
      await post('/api/v1/booking/units', {hsa_id: u, name: 'Vårdcentralen Norr', address: 'Storgatan 1'}),
      await post('/api/v1/booking/rooms', {unit: u, name: 'Rum 3'}),
      await post('/api/v1/booking/practitioners', {hsa_id: 'SE2321000016-P001', name: 'Eva Ek', profession: 'läkare', unit: u}),
      await post('/api/v1/booking/practitioners', {hsa_id: 'SE2321000016-P002', name: 'Olle Ek', profession: 'läkare', unit: u}),
      await post('/api/v1/booking/visittypes', {id: 'lak30', name: 'Läkarbesök', visit_form: 'physical', minutes: 30, profession: 'läkare'}),
      await post('/api/v1/booking/schedules', {practitioner: 'SE2321000016-P001', visit_type: 'lak30', room_id: 1, weekdays: [1, 2, 3, 4, 5],
        start: '08:00', end: '17:00', valid_from: '2026-01-01', valid_to: '2099-12-31'}),
      // Olle's schedule has no room.
      await post('/api/v1/booking/schedules', {practitioner: 'SE2321000016-P002', visit_type: 'lak30', weekdays: [1, 2, 3, 4, 5],
        start: '08:00', end: '17:00', valid_from: '2026-01-01', valid_to: '2099-12-31'})];
    for (const [who, patient] of [['SE2321000016-P001', '199001012385'], ['SE2321000016-P002', '197005051235']]) {
      const slots = await (await fetch(`/api/v1/booking/timeslots?unit=${u}&date=2026-11-25&practitioner=${who}`)).json();
      const nine = slots.timeslots.find((x) => x.startTimeInclusive.includes('T09:00'));
      codes.push(await post('/api/v1/booking/bookings', {slot_id: nine.slot_id, patient}));
    }
    return codes;
  }, unit);
  assert.deepEqual(status, [201, 201, 201, 201, 201, 201, 201, 201, 201]);
  // The admin registers the touch screen's browser as the kiosk, then logs out of it.
  kioskContext = await touchContext();
  const setup = await kioskContext.newPage();
  const registered = await registerKiosk(setup, box.url, box.password);
  assert.equal(registered, 201);
  await setup.close();
});

after(async () => {
  await browser?.close();
  await box?.stop();
});

test('a booked patient checks in on the touch kiosk with the keypad, sees time, room and fee, and pays at the desk', async () => {
  const kiosk = await kioskContext.newPage();
  await kiosk.goto(`${box.url}/kiosk`);
  await kiosk.getByRole('heading', {name: 'Välkommen – checka in här'}).waitFor();
  await kiosk.locator('main .phone-code').waitFor();
  assert.match(await kiosk.locator('main .phone-code').textContent(), /koden \d{6}\./, 'the kiosk shows the phone code');
  assert.deepEqual(await axeViolations(kiosk), [], 'start screen');
  await tapDigits(kiosk, '1990010123855');
  await kiosk.getByRole('button', {name: 'Radera sista siffran'}).tap();
  assert.equal(await kiosk.getByLabel('Personnummer').inputValue(), '199001012385');
  await kiosk.getByRole('button', {name: 'Checka in'}).tap();
  await kiosk.getByRole('heading', {name: 'Du är incheckad'}).waitFor();
  await waitForMessage(kiosk, 'Din tid är kl. 09:00.');
  await waitForMessage(kiosk, 'Rum: Rum 3');
  await waitForMessage(kiosk, 'Att betala: 300 kr');
  assert.deepEqual(await axeViolations(kiosk), [], 'checked-in screen');
  const box1 = await kiosk.getByRole('button', {name: 'Betala i receptionen'}).boundingBox();
  assert.ok(box1.height >= 44 && box1.width >= 44, `a large target (${box1.width}x${box1.height})`);
  await kiosk.getByRole('button', {name: 'Betala i receptionen'}).tap();
  await waitForMessage(kiosk, 'Betala i receptionen när du är klar.');
  await kiosk.getByRole('button', {name: 'Klar'}).tap();
  await kiosk.getByRole('heading', {name: 'Välkommen – checka in här'}).waitFor();
  await kiosk.close();
  const day = await page.evaluate(async () => (await fetch('/api/v1/checkin/day?date=2026-11-25')).json());
  assert.equal(day.visits.find((v) => v.patient.startsWith('19900101')).payment.method, 'desk');
});

test('a booking without a room shows no room line, in English when the patient chooses it', async () => {
  const kiosk = await kioskContext.newPage();
  await kiosk.goto(`${box.url}/kiosk`);
  await kiosk.getByRole('button', {name: 'English'}).tap();
  await kiosk.getByRole('heading', {name: 'Welcome – check in here'}).waitFor();
  assert.equal(await kiosk.evaluate(() => document.documentElement.lang), 'en');
  assert.deepEqual(await axeViolations(kiosk), [], 'English start screen');
  await tapDigits(kiosk, '197005051235');
  await kiosk.getByRole('button', {name: 'Check in'}).tap();
  await kiosk.getByRole('heading', {name: 'You are checked in'}).waitFor();
  await waitForMessage(kiosk, 'Your appointment is at 09:00.');
  const text = await kiosk.locator('main').textContent();
  assert.doesNotMatch(text, /Room|Rum|null|undefined/, text);
  await kiosk.close();
});

// The box's answers are told in the patient's language from the kiosk's catalogue (the
// server's own text is Swedish; until 2026-12-08 an English kiosk showed it).
test('a refusal is told in the language the patient chose', async () => {
  const kiosk = await kioskContext.newPage();
  await kiosk.goto(`${box.url}/kiosk`);
  await kiosk.getByRole('button', {name: 'English'}).tap();
  await kiosk.getByRole('heading', {name: 'Welcome – check in here'}).waitFor();
  await tapDigits(kiosk, '197005051234');  // the check digit is wrong
  await kiosk.getByRole('button', {name: 'Check in'}).tap();
  await waitForMessage(kiosk, 'The personal identity number is not right');
  await waitForMessage(kiosk, 'The last digit does not match. Check the number.');
  const text = await kiosk.locator('main').textContent();
  assert.doesNotMatch(text, /Personnumret|Kontrollsiffran|receptionen/, text);
  await kiosk.close();
});

test('the inactivity timeout clears the screen: nothing typed is left and the language is Swedish again', async () => {
  const kiosk = await kioskContext.newPage();
  await kiosk.clock.install();
  await kiosk.goto(`${box.url}/kiosk`);
  await kiosk.getByRole('button', {name: 'English'}).tap();
  await kiosk.getByRole('heading', {name: 'Welcome – check in here'}).waitFor();
  await tapDigits(kiosk, '19900101');
  assert.equal(await kiosk.getByLabel('Personal identity number').inputValue(), '19900101');
  await kiosk.clock.fastForward(59000);
  assert.equal(await kiosk.getByLabel('Personal identity number').inputValue(), '19900101', 'not yet');
  await kiosk.clock.fastForward(2000);
  await kiosk.getByRole('heading', {name: 'Välkommen – checka in här'}).waitFor();
  assert.equal(await kiosk.getByLabel('Personnummer').inputValue(), '');
  assert.equal(await kiosk.locator('main').getByText('19900101').count(), 0);
  await kiosk.close();
});

test('a phone (not a registered kiosk) is asked for the kiosk code and refused without it', async () => {
  const context = await touchContext();
  const phone = await context.newPage();
  await phone.goto(`${box.url}/kiosk`);
  await phone.getByLabel('Kod från kioskens skärm').waitFor();
  assert.equal(await phone.locator('main .phone-code').count(), 0, 'a phone never shows the code');
  assert.deepEqual(await axeViolations(phone), [], 'phone start screen');
  await tapDigits(phone, '199001012385');
  await phone.getByLabel('Kod från kioskens skärm').fill('000000');
  await phone.getByRole('button', {name: 'Checka in'}).tap();
  await phone.getByRole('alert').filter({hasText: 'Koden stämmer inte'}).waitFor();
  await context.close();
});

test('the admin registers a kiosk on the Kiosker page and sees it listed', async () => {
  await page.goto(`${box.url}/#/page/checkin/kiosks`);
  await page.getByRole('link', {name: 'Kiosker'}).click();
  await page.getByLabel('Kioskens namn').fill('Entrén');
  await page.getByRole('button', {name: 'Registrera den här webbläsaren som kiosk'}).click();
  await waitForMessage(page, 'Webbläsaren är registrerad som kiosken Entrén. Öppna /kiosk.');
  await page.locator('main table').getByText('Entrén').waitFor();
  await page.locator('main table').getByText('Väntrummet').waitFor();
  const cookies = await page.context().cookies(`${box.url}/api/v1/checkin/arrivals`);
  const device = cookies.find((c) => c.name === 'kb_kiosk');
  assert.ok(device && device.httpOnly && device.secure && device.sameSite === 'Strict', JSON.stringify(device));
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}));
  assert.deepEqual(result.violations.map((v) => v.id), []);
});
