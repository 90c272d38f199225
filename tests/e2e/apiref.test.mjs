// The API reference page for IT staff: the box's own OpenAPI document rendered by the
// console (no outside viewer): operations grouped by tag, a request body's fields with their
// limits, the documented statuses, and a filter. Nothing is loaded from another origin.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startBox, launch, login, waitTimeout, swedishPc} from './box.mjs';

let box, browser, page;
const foreign = [];

before(async () => {
  box = await startBox({withHello: true});
  box.cli(['user', 'add', '--username', 'ivar', '--role', 'it', '--name', 'Ivar IT', '--password-stdin'],
    `${box.password}\n`);
  ({browser, page} = await launch());
  page.on('request', (r) => {
    if (!r.url().startsWith(box.url) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  await login(page, box.url, 'ivar', box.password);
});

after(async () => {
  await browser?.close();
  await box?.stop();
});

test('IT opens the API reference from the menu and sees the operations by tag', async () => {
  await page.getByRole('link', {name: 'API-referens'}).click();
  await page.getByRole('heading', {name: 'API-referens', level: 1}).waitFor();
  await page.getByRole('heading', {name: 'auth', level: 2}).waitFor();
  await page.getByRole('heading', {name: 'hello', level: 2}).waitFor();
  const doc = await page.evaluate(async () => (await fetch('/api/v1/openapi.json')).json());
  const total = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).filter((k) => k !== 'parameters').length, 0);
  assert.equal(await page.locator('details.api-op').count(), total, 'every operation of the document is shown');
});

test('an operation shows its body fields with their limits and its statuses', async () => {
  const login = page.locator('details[data-op="POST /api/v1/auth/login"]');
  await login.locator('summary').click();
  const body = login.getByRole('table').first();
  await body.getByRole('cell', {name: 'username', exact: true}).waitFor();
  await body.getByRole('cell', {name: 'password', exact: true}).waitFor();
  await login.getByText('length 1..64').first().waitFor();
  await login.getByText('Andra fält än dessa nekas med 400.').waitFor();
  // Login answers 200 (not 201) and documents the refusals.
  for (const status of ['200', '400', '401']) await login.getByRole('cell', {name: status, exact: true}).waitFor();
  assert.equal(await login.getByRole('cell', {name: '201', exact: true}).count(), 0);
});

test('the filter narrows the list, and nothing came from another origin', async () => {
  await page.getByLabel('Filtrera på metod, sökväg eller beskrivning').fill('/api/v1/outbox');
  await page.locator('details[data-op="GET /api/v1/outbox"]').waitFor();
  await page.locator('main').getByText(/^Visar 3 av \d+ anrop\.$/).waitFor();
  assert.equal(await page.locator('details[data-op="POST /api/v1/auth/login"]').count(), 0);
  await page.getByLabel('Filtrera på metod, sökväg eller beskrivning').fill('inget-sådant-anrop');
  await page.locator('main').getByText('Inga anrop matchar filtret.').waitFor();
  assert.deepEqual(foreign, []);
});

test('staff do not get the page in their menu', async () => {
  box.cli(['user', 'add', '--username', 'sara', '--role', 'staff', '--name', 'Sara S', '--password-stdin'], `${box.password}\n`);
  const context = await browser.newContext({...swedishPc});
  try {
    const p2 = await context.newPage();
    p2.setDefaultTimeout(waitTimeout);
    await login(p2, box.url, 'sara', box.password);
    await p2.getByRole('link', {name: 'Översikt'}).waitFor();
    assert.equal(await p2.getByRole('link', {name: 'API-referens'}).count(), 0);
  } finally {
    await context.close();
  }
});
