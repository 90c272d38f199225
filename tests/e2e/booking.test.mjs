// The booking plugin in the browser: an admin sets up a unit, a practitioner, a visit type and
// a schedule; staff book a patient from the day view and cancel; a patient opens an
// invitation link with their personnummer and picks a time.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startBox, launch, login, waitForMessage, newPage} from './box.mjs';

let box, browser, page;

before(async () => {
  box = await startBox({plugins: ['booking']});
  ({browser, page} = await launch());
  await login(page, box.url, 'admin', box.password);
});

after(async () => {
  await browser?.close();
  await box?.stop();
});

test('an admin sets up a unit, a practitioner, a visit type and a schedule', async () => {
  await page.getByRole('link', {name: 'Scheman'}).click();
  await page.getByRole('heading', {name: 'Vårdenheter', exact: true}).waitFor();
  const unitForm = page.locator('form', {has: page.getByRole('heading', {name: 'Lägg till: Vårdenhet'})});
  await unitForm.getByLabel('HSA-id').fill('SE2321000016-U001');
  await unitForm.getByLabel('Namn').fill('Vårdcentralen Norr');
  await unitForm.getByLabel('Adress').fill('Storgatan 1');
  await unitForm.getByRole('button', {name: 'Lägg till'}).click();
  await page.getByRole('cell', {name: 'Vårdcentralen Norr'}).waitFor();

  const pracForm = page.locator('form', {has: page.getByRole('heading', {name: 'Lägg till: Vårdgivare'})});
  await pracForm.getByLabel('HSA-id').fill('SE2321000016-P001');
  await pracForm.getByLabel('Namn').fill('Eva Läkare');
  await pracForm.getByLabel('Yrke').fill('läkare');
  await pracForm.getByRole('button', {name: 'Lägg till'}).click();
  await page.getByRole('cell', {name: 'Eva Läkare'}).waitFor();

  const typeForm = page.locator('form', {has: page.getByRole('heading', {name: 'Lägg till: Besökstyp'})});
  await typeForm.getByLabel('Id').fill('lak30');
  await typeForm.getByLabel('Namn').fill('Läkarbesök');
  await typeForm.getByLabel('Minuter').fill('30');
  await typeForm.getByLabel('Yrke').fill('läkare');
  await typeForm.getByRole('button', {name: 'Lägg till'}).click();
  await page.getByRole('cell', {name: 'Läkarbesök'}).waitFor();

  const schedForm = page.locator('form', {has: page.getByRole('heading', {name: 'Lägg till: Scheman'})});
  await schedForm.getByLabel(/Veckodagar/).fill('1,2,3,4,5,6,7');
  await schedForm.getByLabel(/Öppnar/).fill('00:00');
  await schedForm.getByLabel(/Stänger/).fill('24:00');
  await schedForm.getByLabel(/Raster/).fill('');
  await schedForm.getByLabel('Gäller från').fill('2026-01-01');
  await schedForm.getByLabel('Gäller till').fill('2099-12-31');
  await schedForm.getByRole('button', {name: 'Lägg till'}).click();
  await page.getByRole('button', {name: 'Avsluta'}).waitFor();
  await page.getByRole('cell', {name: 'Långfredagen'}).waitFor();
});

test('staff book a patient from the week view and cancel the booking', async () => {
  await page.getByRole('link', {name: 'Bokningar'}).click();
  const tomorrow = new Date(Date.now() + 3 * 86400000).toLocaleDateString('sv-SE');
  await page.getByLabel('Datum').fill(tomorrow);
  await page.getByRole('button', {name: 'Visa'}).click();
  await page.getByRole('button', {name: 'Boka'}).nth(20).click();
  await page.getByLabel('Personnummer').fill('19121212-1212');
  await page.locator('form.card').getByRole('button', {name: 'Boka'}).click();
  await waitForMessage(page, /^Bokat: /);
  await page.getByRole('cell', {name: '191212121212'}).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', {name: 'Avboka'}).click();
  await waitForMessage(page, 'Bokningen är avbokad.');
  await page.getByRole('cell', {name: '191212121212'}).waitFor({state: 'detached'});
  assert.equal(await page.getByRole('cell', {name: '191212121212'}).count(), 0);
});

test('a patient opens an invitation with their personnummer and picks a time', async () => {
  const res = await page.evaluate(async () => {
    const s = await (await fetch('/api/v1/auth/session')).json();
    const r = await fetch('/api/v1/booking/invitations', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token},
      body: JSON.stringify({patient: '199001012385', unit: 'SE2321000016-U001', visit_type: 'lak30', purpose: 'Årlig kontroll',
        questions: ['Hur mår du?'], email: 'patient@example.se'})});
    return {status: r.status, body: await r.json()};
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const link = res.body.link.replace(/^https:\/\/[^/]+/, box.url);
  const patient = await newPage(browser);
  await patient.goto(link);
  await patient.getByLabel(/Ditt personnummer/).fill('19121212-1212');
  await patient.getByRole('button', {name: 'Öppna'}).click();
  await patient.getByRole('alert').waitFor();
  await patient.getByLabel(/Ditt personnummer/).fill('19900101-2385');
  await patient.getByRole('button', {name: 'Öppna'}).click();
  await waitForMessage(patient, 'Syfte: Årlig kontroll');
  await patient.getByRole('button', {name: 'Boka den här tiden'}).nth(5).click();
  await waitForMessage(patient, /^Klart! Din tid är/);
  await patient.getByLabel('Hur mår du?').fill('Bra, tack');
  await patient.getByRole('button', {name: 'Skicka svaren'}).click();
  await waitForMessage(patient, 'Tack, dina svar är skickade.');
  await patient.close();
});
