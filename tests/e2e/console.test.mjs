// The console end to end in Debian's chromium against the real box.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startBox, launch, login, waitForMessage} from './box.mjs';

let box, browser, page;

before(async () => {
  box = await startBox();
  ({browser, page} = await launch());
});

after(async () => {
  await browser?.close();
  await box?.stop();
});

test('a wrong password is refused with a Swedish message that does not reveal the account', async () => {
  await page.goto(`${box.url}/`);
  await page.getByLabel('Användarnamn').fill('admin');
  await page.getByLabel('Lösenord').fill('not the password at all');
  await page.getByRole('button', {name: 'Logga in'}).click();
  await page.getByRole('alert').filter({hasText: 'Fel användarnamn eller lösenord.'}).waitFor();
});

test('an admin logs in and sees the dashboard with the development-mode banner', async () => {
  await login(page, box.url, 'admin', box.password);
  const banner = page.locator('#banner');
  await banner.waitFor();
  assert.match(await banner.textContent(), /Utvecklingsläge/);
  assert.match(await page.locator('#who').textContent(), /Anna Admin/);
  await page.getByRole('heading', {name: 'Tilläggspaket'}).waitFor();
  // Issue 14.12: the certificate's fingerprint, to compare with the browser's, is the one
  // `klinikbox tls show` prints for the certificate the box serves.
  const shown = (await page.locator('#tls-fingerprint').textContent()).trim();
  const cli = box.cli(['tls', 'show']).match(/SHA-256 fingerprint: (\S+)/)[1];
  assert.equal(shown, cli);
  assert.match(shown, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i);
  // The fingerprint wraps inside its card (it made the page scroll sideways), and the expiry
  // is a local date and time, not the certificate's raw UTC text.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'no sideways scroll');
  assert.doesNotMatch(await page.locator('main').textContent(), /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  await page.screenshot({path: new URL('./test-results/dashboard.png', import.meta.url).pathname, fullPage: true});
});

test('the admin creates a user, and a bad HSA-id is shown next to its field', async () => {
  await page.getByRole('link', {name: 'Användare'}).click();
  await page.getByRole('heading', {name: 'Användare'}).first().waitFor();
  const form = page.locator('form');
  await form.getByLabel('Användarnamn', {exact: true}).fill('sara');
  await form.getByLabel('Namn', {exact: true}).fill('Sara Sköterska');
  await form.getByLabel('Roll').selectOption('staff');
  await form.getByLabel('Lösenord (minst 12 tecken)').fill('en lång lösenordsfras');
  await form.getByLabel('HSA-id', {exact: true}).fill('not-an-hsa-id');
  await form.getByRole('button', {name: 'Skapa användare'}).click();
  // The error sits under the field (its aria-describedby), the field is marked invalid and focused.
  const hsa = form.getByLabel('HSA-id', {exact: true});
  await page.locator(`#${await hsa.getAttribute('aria-describedby')}`).filter({hasText: 'HSA-id'}).waitFor();
  assert.equal(await hsa.getAttribute('aria-invalid'), 'true');
  assert.ok(await hsa.evaluate((el) => el === document.activeElement), 'the field with the error has the focus');
  await form.getByLabel('HSA-id', {exact: true}).fill('SE2321000016-S001');
  await form.getByRole('button', {name: 'Skapa användare'}).click();
  await page.getByRole('cell', {name: 'Sara Sköterska'}).waitFor();
  // A new password is typed into a password field below the row (window.prompt showed it as
  // plain text), and a refusal is shown at that field.
  const sara = page.locator('tr', {has: page.getByRole('cell', {name: 'Sara Sköterska'})});
  await sara.getByRole('button', {name: 'Nytt lösenord'}).click();
  const pw = page.getByLabel('Nytt lösenord för sara (minst 12 tecken)');
  assert.equal(await pw.getAttribute('type'), 'password');
  await pw.fill('kort');
  await page.locator('tr.inline').getByRole('button', {name: 'Nytt lösenord'}).click();
  await page.locator(`#${await pw.getAttribute('aria-describedby')}`).filter({hasText: 'minst 12 tecken'}).waitFor();
  await pw.fill('ett nytt långt lösenord');
  await page.locator('tr.inline').getByRole('button', {name: 'Nytt lösenord'}).click();
  await page.locator('tr.inline').waitFor({state: 'detached'});
});

test('an auditor finds the admin\'s login in the log review', async () => {
  box.cli(['user', 'add', '--username', 'granskare', '--role', 'auditor', '--password-stdin'], 'auditor password 123\n');
  await page.getByRole('button', {name: 'Logga ut'}).click();
  await login(page, box.url, 'granskare', 'auditor password 123');
  await page.getByRole('link', {name: 'Loggkontroll'}).click();
  await page.getByLabel('Användare').fill('admin');
  await page.getByLabel('Typ av händelse').selectOption({label: 'Inloggning'});
  await page.getByRole('button', {name: 'Sök'}).click();
  // The first, unfiltered answer's rows would satisfy the checks below: wait for this one's.
  await page.locator('.audit-results[aria-busy="false"]').waitFor();
  const rows = page.locator('tbody tr');
  await rows.first().waitFor();
  const text = await rows.allTextContents();
  assert.ok(text.some((r) => r.includes('auth.login') && r.includes('lyckades')), text.join('\n'));
  assert.ok(text.some((r) => r.includes('misslyckades')), 'the failed attempt is logged too');
  await page.getByRole('button', {name: 'Kontrollera loggkedjan'}).click();
  await waitForMessage(page, /Loggkedjan är obruten/);
});

test('a state-changing request without the CSRF token is refused', async () => {
  const res = await page.evaluate(async () => {
    const r = await fetch('/api/v1/auth/logout-all', {method: 'POST', credentials: 'same-origin'});
    return {status: r.status, body: await r.json()};
  });
  assert.equal(res.status, 403);
  assert.equal(res.body.type, '/problems/csrf');
});

test('the console is usable by keyboard: the skip link leads to the main content', async () => {
  await page.goto(`${box.url}/`);
  await page.getByRole('heading', {name: 'Översikt'}).waitFor();
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.textContent);
  assert.equal(focused, 'Hoppa till innehållet');
});
