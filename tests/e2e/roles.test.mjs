// The console as each role uses it (issue 17): an admin, front-desk staff, an auditor and an
// IT technician log in and open every page their menu offers. Every page is checked for
// English text, raw catalogue keys and problem types (checks.mjs), for axe-core WCAG 2.1
// A/AA violations, and for a single h1; the tasks each role does most are walked.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startBox, launch, login, waitForMessage, swedishDay, showDay} from './box.mjs';
import {checkPage, expectSwedish, englishIn} from './checks.mjs';

let box, browser, page, context;
const unit = 'SE2321000016-U001';
const users = {
  staff: ['sara', 'receptionens lösen 1'],
  auditor: ['greta', 'granskarens lösen 1'],
  it: ['ivar', 'teknikerns lösen 1'],
};
// Names the walk itself typed (data, not interface text).
const DATA = ['greta', 'sara', 'ivar', 'admin', 'Vårdcentralen Norr', 'Storgatan 1', 'Eva Ek', 'Rum 3', 'Läkarbesök', 'Anna Admin', 'Sara Sköterska',
  'Greta Granskare', 'Ivar Tekniker'];

before(async () => {
  box = await startBox({plugins: ['booking', 'checkin', 'video'],
    extraConfig: `  settings:\n    checkin:\n      care_unit: ${unit}\n      clinic_name: Vårdcentralen Norr\n`});
  box.cli(['user', 'add', '--username', 'sara', '--role', 'staff', '--name', 'Sara Sköterska', '--hsa-id', 'SE2321000016-S001',
    '--care-unit', unit, '--password-stdin'], `${users.staff[1]}\n`);
  box.cli(['user', 'add', '--username', 'greta', '--role', 'auditor', '--name', 'Greta Granskare', '--password-stdin'], `${users.auditor[1]}\n`);
  box.cli(['user', 'add', '--username', 'ivar', '--role', 'it', '--name', 'Ivar Tekniker', '--password-stdin'], `${users.it[1]}\n`);
  ({browser, context, page} = await launch());
  await page.setViewportSize({width: 1280, height: 800});
  await login(page, box.url, 'admin', box.password);
  const codes = await page.evaluate(async (u) => {
    const s = await (await fetch('/api/v1/auth/session')).json();
    const post = async (path, body) => (await fetch(path, {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token}, body: JSON.stringify(body)})).status;
    return [
      await post('/api/v1/booking/units', {hsa_id: u, name: 'Vårdcentralen Norr', address: 'Storgatan 1'}),
      await post('/api/v1/booking/rooms', {unit: u, name: 'Rum 3'}),
      await post('/api/v1/booking/practitioners', {hsa_id: 'SE2321000016-P001', name: 'Eva Ek', profession: 'läkare', unit: u}),
      await post('/api/v1/booking/visittypes', {id: 'lak30', name: 'Läkarbesök', visit_form: 'physical', minutes: 30, profession: 'läkare'}),
      await post('/api/v1/booking/schedules', {practitioner: 'SE2321000016-P001', visit_type: 'lak30', room_id: 1,
        weekdays: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00', valid_from: '2026-01-01', valid_to: '2099-12-31'})];
  }, unit);
  assert.deepEqual(codes, [201, 201, 201, 201, 201]);
  await page.getByRole('button', {name: 'Logga ut'}).click();
});

after(async () => {
  await browser?.close();
  await box?.stop();
});

// Starts a test logged out, whatever the test before left behind.
async function loginFresh(user, password) {
  await context.clearCookies();
  await login(page, box.url, user, password);
}

// Opens every menu item of the logged-in role and checks the page it shows.
async function walkMenu(role) {
  const links = await page.locator('#nav a').evaluateAll((as) => as.map((a) => ({href: a.getAttribute('href'), text: a.textContent})));
  assert.ok(links.length > 1, `${role} has a menu`);
  for (const {href, text} of links) {
    await page.locator(`#nav a[href="${href}"]`).click();
    await page.locator('#nav a[aria-current="page"]', {hasText: text}).waitFor();
    // The console marks main aria-busy until the page has rendered (a plugin page's own
    // heading replaces the generic one only then).
    await page.locator('main[aria-busy="false"] h1').first().waitFor();
    assert.equal(await page.locator('main h1').count(), 1, `one h1 on ${text}`);
    assert.equal(await page.locator('main .error').count(), 0, `no error on ${text}: ${await page.locator('main').innerText()}`);
    await checkPage(page, `${text} (${role})`, DATA);
  }
}

test('the detector finds English, raw keys and problem types, and lets Swedish and names pass', () => {
  assert.deepEqual(englishIn(['Bokningen är avbokad.', 'Inloggad som Anna (administratör)', 'Swish och e-frikort', 'Hälsa på 19121212-1212']), []);
  assert.equal(englishIn(['bookings can be changed until 24 hours before they start']).length > 3, true);
  assert.ok(englishIn(['Roll: role.anonymous']).some((x) => x.startsWith('role.anonymous')));
  assert.equal(englishIn(['Fel: /problems/slot-taken']).length, 1);
  assert.equal(englishIn(['BELOW_LIMIT']).length, 2);
  assert.deepEqual(englishIn(['Hello (SDK example)'], []).length, 2);
});

test('the login page is Swedish, accessible, and shows no "Logga ut"', async () => {
  await page.goto(`${box.url}/`);
  await page.getByLabel('Användarnamn').waitFor();
  assert.equal(await page.getByRole('button', {name: 'Logga ut'}).isVisible(), false);
  assert.equal(await page.locator('h1').count(), 1);
  await checkPage(page, 'the login page');
  await page.getByLabel('Användarnamn').fill('sara');
  await page.getByLabel('Lösenord').fill('not the password');
  await page.getByRole('button', {name: 'Logga in'}).click();
  await page.getByRole('alert').filter({hasText: 'Fel användarnamn eller lösenord.'}).waitFor();
  await checkPage(page, 'the login page with its error');
});

test('an admin: every page, a too-short password next to its field, the menu reloads the page', async () => {
  await loginFresh('admin', box.password);
  await walkMenu('admin');
  await page.getByRole('link', {name: 'Användare'}).click();
  const form = page.locator('form');
  await form.getByLabel('Användarnamn', {exact: true}).fill('kort');
  await form.getByLabel('Lösenord (minst 12 tecken)').fill('kort');
  await form.getByRole('button', {name: 'Skapa användare'}).click();
  const pwField = form.locator('.field', {has: page.getByLabel('Lösenord (minst 12 tecken)')});
  await pwField.getByText('Lösenordet måste ha minst 12 tecken.').waitFor();
  await checkPage(page, 'Användare with a field error', DATA);
  // Clicking the current menu item loads its data again: a user created meanwhile appears.
  box.cli(['user', 'add', '--username', 'nyanstalld', '--role', 'staff', '--password-stdin'], 'a new colleague password\n');
  await page.getByRole('link', {name: 'Användare'}).click();
  await page.getByRole('cell', {name: 'nyanstalld'}).waitFor();
  await page.getByRole('button', {name: 'Logga ut'}).click();
});

test('front-desk staff: every page, and the day view with a booking and its forms', async () => {
  await loginFresh(...users.staff);
  await walkMenu('staff');
  // The dashboard shows the plugins' figures and the week's chart.
  await page.getByRole('link', {name: 'Översikt'}).click();
  await page.locator('li.figure', {hasText: 'Bokade besök idag'}).waitFor();
  await page.locator('li.figure', {hasText: 'Ankomna idag'}).waitFor();
  await page.getByRole('img', {name: /^Bokade besök den här veckan: mån \d+/}).waitFor();
  await page.getByRole('link', {name: 'Bokningar'}).click();
  const later = swedishDay(new Date(Date.now() + 3 * 86400000));
  await showDay(page, later);
  await page.locator('main tbody').getByRole('button', {name: 'Boka', exact: true}).nth(18).click();
  await page.getByLabel('Personnummer').fill('19121212-1213');
  await page.locator('form.card').getByRole('button', {name: 'Boka'}).click();
  await waitForMessage(page, 'Kontrollsiffran stämmer inte. Kontrollera personnumret.');
  await checkPage(page, 'the day view with a personnummer error', DATA);
  await page.getByLabel('Personnummer').fill('19121212-1212');
  await page.locator('form.card').getByRole('button', {name: 'Boka'}).click();
  await waitForMessage(page, /^Bokat: /);
  await page.getByRole('cell', {name: '19121212-1212', exact: true}).waitFor();
  await page.locator('main tbody tr', {has: page.getByRole('cell', {name: '19121212-1212'})}).getByRole('button', {name: 'Avboka'}).click();
  await page.locator('tr.inline form').waitFor();
  await checkPage(page, 'the day view with the cancel form', [...DATA, '19121212-1212']);
  await page.getByRole('button', {name: 'Logga ut'}).click();
});

// Runs the log review's search and waits for its answer: the results are aria-busy until
// the latest search has been shown (the rows before it would satisfy a wait for a row).
async function searchLog() {
  await page.getByRole('button', {name: 'Sök'}).click();
  await page.locator('.audit-results[aria-busy="false"]').waitFor();
}

test('an auditor: every page, filters, noise hidden, the table fits 1280 px', async () => {
  await loginFresh(...users.auditor);
  await walkMenu('auditor');
  await page.getByRole('link', {name: 'Loggkontroll'}).click();
  await page.locator('main tbody tr').first().waitFor();
  // The not-logged-in session checks of every page load are not denials, and the review's
  // own records are left out by default.
  const rows = await page.locator('main tbody tr').allInnerTexts();
  assert.ok(!rows.some((r) => r.includes('/api/v1/auth/session')), rows.join('\n'));
  assert.ok(!rows.some((r) => r.includes('audit.review')), rows.join('\n'));
  const fit = await page.evaluate(() => {
    const t = document.querySelector('main table');
    return {table: t.getBoundingClientRect().right, page: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth};
  });
  assert.ok(fit.table <= fit.page && fit.scroll <= fit.page, JSON.stringify(fit));
  await page.getByLabel('Utfall').selectOption({label: 'misslyckades'});
  await searchLog();
  await page.locator('main tbody tr', {hasText: 'Inloggning'}).first().waitFor();
  const failed = await page.locator('main tbody tr').allInnerTexts();
  assert.ok(failed.every((r) => r.includes('misslyckades')), failed.join('\n'));
  await page.getByLabel('Utfall').selectOption({label: 'lyckades'});
  await page.getByLabel('Roll').selectOption({label: 'granskare'});
  await searchLog();
  await page.locator('main tbody tr', {hasText: 'greta'}).first().waitFor();
  const mine = await page.locator('main tbody tr').allInnerTexts();
  assert.ok(mine.every((r) => r.includes('greta') && r.includes('granskare')), mine.join('\n'));
  await checkPage(page, 'Loggkontroll filtered', DATA);
  await page.getByLabel('Utfall').selectOption({label: 'Alla'});
  await page.getByLabel('Roll').selectOption({label: 'Alla'});
  await page.getByLabel('Patientens personnummer').fill('19121212-1212');
  await searchLog();
  await page.locator('main tbody tr', {hasText: 'Bokning'}).first().waitFor();
  await page.getByRole('link', {name: 'Logguttag för patienten'}).click();
  await page.getByRole('heading', {name: /Logguttag/}).waitFor();
  await checkPage(page, 'the patient log extract', [...DATA, 'sara']);
  await page.getByText('Hela loggen.').waitFor();
  // The extract of the review's period: from yesterday to today, Swedish days (yesterday too,
  // in case the run crosses midnight).
  const today = swedishDay(new Date()), yesterday = swedishDay(new Date(Date.now() - 86400000));
  await page.goBack();
  await page.getByLabel('Patientens personnummer').fill('19121212-1212');
  await page.getByLabel('Från', {exact: true}).fill(yesterday);
  await page.getByLabel('Till', {exact: true}).fill(today);
  await searchLog();
  await page.getByRole('link', {name: 'Logguttag för patienten'}).click();
  await page.getByText(`Period: ${yesterday} – ${today} (svensk tid).`).waitFor();
  await page.locator('main tbody tr', {hasText: 'sara'}).first().waitFor();
  await page.getByRole('button', {name: 'Logga ut'}).click();
});

test('an IT technician: every page', async () => {
  await loginFresh(...users.it);
  await walkMenu('it');
  await page.getByRole('button', {name: 'Logga ut'}).click();
});

test('pages stay Swedish after logging out', async () => {
  await loginFresh(...users.it);
  await page.getByRole('button', {name: 'Logga ut'}).click();
  await page.getByLabel('Användarnamn').waitFor();
  await expectSwedish(page, 'the login page after logout');
  assert.equal(await context.pages().length, 1);
});
