// The check-in kiosk in the browser: an unknown personnummer gets a clear message and no
// data; a booked patient is checked in, sees the time, room and fee, and chooses to pay at
// the desk; the screen can be cleared for the next patient.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startBox, launch, login, waitForMessage, newPage} from './box.mjs';

let box, browser, page;
const unit = 'SE2321000016-U001';

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
      await post('/api/v1/booking/visittypes', {id: 'lak30', name: 'Läkarbesök', visit_form: 'physical', minutes: 30, profession: 'läkare'}),
      await post('/api/v1/booking/schedules', {practitioner: 'SE2321000016-P001', visit_type: 'lak30', room_id: 1, weekdays: [1, 2, 3, 4, 5],
        start: '08:00', end: '17:00', valid_from: '2026-01-01', valid_to: '2099-12-31'})];
    const slots = await (await fetch(`/api/v1/booking/timeslots?unit=${u}&date=2026-11-25`)).json();
    const nine = slots.timeslots.find((x) => x.startTimeInclusive.includes('T09:00'));
    codes.push(await post('/api/v1/booking/bookings', {slot_id: nine.slot_id, patient: '199001012385'}));
    return codes;
  }, unit);
  assert.deepEqual(status, [201, 201, 201, 201, 201, 201]);
});

after(async () => {
  await browser?.close();
  await box?.stop();
});

test('an unknown personnummer gets a clear message and no data', async () => {
  const kiosk = await newPage(browser);
  await kiosk.goto(`${box.url}/kiosk`);
  await kiosk.getByRole('heading', {name: 'Välkommen – checka in här'}).waitFor();
  await kiosk.getByLabel('Personnummer').fill('19850709-9805');
  await kiosk.getByRole('button', {name: 'Checka in'}).click();
  await kiosk.getByRole('alert').filter({hasText: 'Vi hittar ingen bokning idag'}).waitFor();
  assert.equal(await kiosk.getByText('199001012385').count(), 0);
  await kiosk.close();
});

test('a booked patient checks in, sees time, room and fee, and pays at the desk', async () => {
  const kiosk = await newPage(browser);
  await kiosk.goto(`${box.url}/kiosk`);
  await kiosk.getByLabel('Personnummer').fill('19900101-2385');
  await kiosk.getByRole('button', {name: 'Checka in'}).click();
  await kiosk.getByRole('heading', {name: 'Du är incheckad'}).waitFor();
  await waitForMessage(kiosk, 'Din tid är kl. 09:00.');
  await waitForMessage(kiosk, 'Rum: Rum 3');
  await waitForMessage(kiosk, 'Att betala: 300 kr');
  assert.equal(await kiosk.getByRole('button', {name: 'Betala med Swish'}).count(), 0, 'Swish is not configured here');
  await kiosk.getByRole('button', {name: 'Betala i receptionen'}).click();
  await waitForMessage(kiosk, 'Betala i receptionen när du är klar.');
  await kiosk.getByRole('button', {name: 'Klar'}).click();
  await kiosk.getByRole('heading', {name: 'Välkommen – checka in här'}).waitFor();
  await kiosk.close();
  // Staff see the visit in the day report, waiting to be paid at the desk.
  const day = await page.evaluate(async () => (await fetch('/api/v1/checkin/day?date=2026-11-25')).json());
  assert.equal(day.checked_in, 1);
  assert.equal(day.visits[0].payment.method, 'desk');
  assert.equal(day.visits[0].payment.status, 'created');
});
