// The booking plugin in the browser: an admin sets up a unit, a practitioner, a visit type and
// a schedule; staff book a patient from the day view and cancel; a patient opens an
// invitation link with their personnummer and picks a time.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startBox, launch, login, waitForMessage, newPage, swedishDay, swedishHour, swedishPc, waitTimeout, showDay} from './box.mjs';

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
  await schedForm.getByLabel('Lördag').check();
  await schedForm.getByLabel('Söndag').check();
  await schedForm.getByLabel(/Öppnar/).fill('00:00');
  await schedForm.getByLabel(/Stänger/).fill('24:00');
  await schedForm.getByLabel(/Raster/).fill('');
  await schedForm.getByLabel('Gäller från').fill('2026-01-01');
  await schedForm.getByLabel('Gäller till').fill('2099-12-31');
  await schedForm.getByRole('button', {name: 'Lägg till'}).click();
  await page.getByRole('button', {name: 'Avsluta'}).waitFor();
  await page.getByRole('cell', {name: 'Långfredagen'}).waitFor();
  // The schedule is shown with names, not ids.
  await page.getByRole('cell', {name: 'mån, tis, ons, tors, fre, lör, sön'}).waitFor();
  const schedRow = page.locator('tr', {has: page.getByRole('cell', {name: 'mån, tis, ons, tors, fre, lör, sön'})});
  assert.match(await schedRow.innerText(), /Eva Läkare\s+Läkarbesök/);
});

test('staff book a patient from the week view and cancel the booking', async () => {
  await page.getByRole('link', {name: 'Bokningar'}).click();
  const later = swedishDay(new Date(Date.now() + 3 * 86400000));
  await showDay(page, later);
  await page.getByRole('button', {name: 'Boka'}).nth(20).click();
  await page.getByLabel('Personnummer').fill('19121212-1212');
  await page.locator('form.card').getByRole('button', {name: 'Boka'}).click();
  await waitForMessage(page, /^Bokat: /);
  const row = page.locator('main tbody tr', {has: page.getByRole('cell', {name: '19121212-1212', exact: true})});
  await row.getByRole('button', {name: 'Avboka'}).click();
  await page.locator('tr.inline').getByRole('button', {name: 'Avboka tiden'}).click();
  await waitForMessage(page, /^Tiden .* är avbokad\.$/);
  await page.getByRole('cell', {name: '19121212-1212'}).waitFor({state: 'detached'});
});

// The desk's most common task after booking: the patient calls the same day. Staff give a
// reason (the patients' 24-hour limit does not bind them) and the answer appears right below
// the row that was clicked, not at the top of a long day.
test('the desk cancels a booking the same day with a reason, next to the clicked row', async () => {
  box.cli(['user', 'add', '--username', 'desk', '--role', 'staff', '--name', 'Disa Disk', '--password-stdin'], 'kassa lösenord 1234\n');
  await page.getByRole('button', {name: 'Logga ut'}).click();
  await login(page, box.url, 'desk', 'kassa lösenord 1234');
  await page.getByRole('link', {name: 'Bokningar'}).click();
  // The day three hours from now: its third time still open is well within 24 hours.
  await showDay(page, swedishDay(new Date(Date.now() + 3 * 3600000)));
  await page.locator('main tbody tr').first().waitFor();
  const free = page.locator('main tbody').getByRole('button', {name: 'Boka', exact: true, disabled: false});
  await free.nth(2).click();
  await page.getByLabel('Personnummer').fill('19121212-1212');
  await page.locator('form.card').getByRole('button', {name: 'Boka'}).click();
  await waitForMessage(page, /^Bokat: /);
  const row = page.locator('main tbody tr', {has: page.getByRole('cell', {name: '19121212-1212', exact: true})});
  const slotTime = (await row.locator('td').first().textContent()).trim();
  await row.getByRole('button', {name: 'Avboka'}).click();
  const form = page.locator('tr.inline form');
  await form.getByRole('button', {name: 'Avboka tiden'}).click();
  await waitForMessage(page, 'Skriv en orsak till den sena avbokningen.');
  await form.getByLabel(/Orsak till den sena avbokningen/).fill('Patienten ringde och är sjuk');
  await form.getByRole('button', {name: 'Avboka tiden'}).click();
  const done = page.locator('tr.inline').getByText(/^Tiden .* är avbokad\.$/);
  await done.waitFor();
  // The message is in the row right below the slot, and on screen.
  const slotRow = page.locator('main tbody tr:not(.inline)', {has: page.getByRole('cell', {name: slotTime, exact: true})}).first();
  assert.equal(await slotRow.evaluate((tr) => tr.nextElementSibling?.classList.contains('inline')), true);
  const box1 = await slotRow.boundingBox();
  const box2 = await done.boundingBox();
  const viewport = page.viewportSize();
  assert.ok(box2.y - box1.y < 200, `message ${box2.y}px vs row ${box1.y}px`);
  assert.ok(box2.y >= 0 && box2.y < viewport.height, `the message is on screen (${box2.y})`);
  assert.equal(await page.getByRole('cell', {name: '19121212-1212', exact: true}).count(), 0);
});

test('past times of today cannot be booked and today opens at the current time', async () => {
  if (swedishHour() < 1) return;  // just after midnight there is no past time today yet
  await showDay(page, swedishDay());
  const first = page.locator('main tbody tr').first();
  await first.getByRole('cell', {name: 'passerad'}).waitFor();
  assert.equal(await first.getByRole('button', {name: 'Boka'}).isDisabled(), true);
  await waitForMessage(page, /^Öppet den här dagen: 00:00–24:00\.$/);
  // Scrolled to now: the first row (00:00) is above the viewport.
  await page.waitForFunction(() => window.scrollY > 0);
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

// The box counts days in Swedish time (box.timezone); a PC whose clock is set to another zone
// still opens the clinic's today. At any moment one of these two zones is on another date
// than Sweden (Kiritimati from 11:00 Swedish time, Pago Pago before 12:00).
test('a PC whose clock is set to another zone still opens the clinic\'s today', async () => {
  for (const timezoneId of ['Pacific/Kiritimati', 'Pacific/Pago_Pago']) {
    const context = await browser.newContext({...swedishPc, timezoneId});
    context.setDefaultTimeout(waitTimeout);
    const pc = await context.newPage();
    await login(pc, box.url, 'admin', box.password);
    await pc.getByRole('link', {name: 'Bokningar'}).click();
    const before = swedishDay();
    const shown = await pc.getByLabel('Datum').inputValue();
    assert.ok([before, swedishDay()].includes(shown), `${timezoneId}: ${shown}, Swedish day ${before}`);
    await context.close();
  }
});

// A day closed by mistake opens again from the same list, with a confirmation, and the page
// says how many free times came back.
test('an admin closes a day and opens it again', async () => {
  const pc = await newPage(browser);
  await login(pc, box.url, 'admin', box.password);
  await pc.getByRole('link', {name: 'Scheman'}).click();
  const day = swedishDay(new Date(Date.now() + 9 * 86400000));
  const closeForm = pc.locator('form', {has: pc.getByRole('heading', {name: 'Lägg till: Stängda dagar'})});
  await closeForm.getByLabel('Datum').fill(day);
  await closeForm.getByLabel('Orsak').fill('Fel dag');
  await closeForm.getByRole('button', {name: 'Lägg till'}).click();
  const row = pc.locator('main tr', {has: pc.getByRole('button', {name: 'Öppna dagen'})});
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(`${day}\\s+Fel dag`));
  pc.once('dialog', (d) => d.accept());
  await row.getByRole('button', {name: 'Öppna dagen'}).click();
  await waitForMessage(pc, new RegExp(`^${day} är öppen igen: \\d+ lediga tider\\.$`));
  await row.waitFor({state: 'detached'});
  await pc.close();
});
