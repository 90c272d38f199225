// Plugin administration in the browser: settings form with inline errors, and a page a
// plugin adds to the console.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startBox, launch, login, waitForMessage} from './box.mjs';

let box, browser, page;

before(async () => {
  box = await startBox({withHello: true});
  ({browser, page} = await launch());
  await login(page, box.url, 'admin', box.password);
});

after(async () => {
  await browser?.close();
  await box?.stop();
});

test('a setting the schema refuses is shown next to its field, a valid one restarts the plugin', async () => {
  await page.getByRole('link', {name: 'Tillägg', exact: true}).click();
  await page.getByRole('cell', {name: 'running'}).or(page.getByRole('cell', {name: 'körs'})).first().waitFor();
  await page.getByRole('button', {name: 'Inställningar'}).click();
  const greeting = page.getByLabel('Hälsning', {exact: true});
  await greeting.fill('');
  await page.getByRole('button', {name: 'Spara och starta om tillägget'}).click();
  await waitForMessage(page, 'Fältet måste fyllas i.');
  assert.equal(await greeting.getAttribute('aria-invalid'), 'true');
  await greeting.fill('God morgon');
  await page.getByRole('button', {name: 'Spara och starta om tillägget'}).click();
  await waitForMessage(page, 'Inställningarna är sparade och tillägget har startats om.');
});

test('a plugin\'s own console page is listed and renders', async () => {
  await page.goto(`${box.url}/`);
  await page.getByRole('link', {name: 'Hälsningar'}).click();
  await page.getByRole('heading', {name: 'Hälsningar'}).waitFor();
  await page.locator('section[aria-label="Hälsningar"] ul').waitFor({state: 'attached'});
});
