// The Lua script page for IT staff: the scripts and their state, a refused save keeps the
// running version, a good save is applied, and the dry run shows a veto.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {startBox, launch, login, waitForMessage} from './box.mjs';

let box, browser, page;
const original = 'kb.on("booking.requested", function(e)\n  e.payload.checked = true\nend)\n';

before(async () => {
  box = await startBox({scripts: {'triage.lua': original}});
  box.cli(['user', 'add', '--username', 'ivar', '--role', 'it', '--name', 'Ivar IT', '--password-stdin'],
    `${box.password}\n`);
  ({browser, page} = await launch());
  await login(page, box.url, 'ivar', box.password);
});

after(async () => {
  await browser?.close();
  await box?.stop();
});

test('IT sees the scripts with their state', async () => {
  await page.getByRole('link', {name: 'Skript'}).click();
  await page.getByRole('heading', {name: 'Lua-skript'}).waitFor();
  await page.getByRole('cell', {name: 'körs (version 1)'}).waitFor();
  await page.getByRole('cell', {name: 'booking.requested'}).waitFor();
});

test('a script with an error is refused and the running version stays', async () => {
  await page.getByRole('link', {name: 'triage.lua'}).click();
  const src = page.getByLabel('Källkod');
  await src.fill('kb.on("booking.requested", function(e)\n  e.payload.x = \nend)\n');
  await page.getByRole('button', {name: 'Kontrollera och spara'}).click();
  await page.getByRole('alert').filter({hasText: 'Skriptet godtogs inte'}).waitFor();
  assert.equal(readFileSync(join(box.dir, 'scripts', 'triage.lua'), 'utf8'), original);
});

test('the dry run shows a veto, and a good script is saved and runs', async () => {
  const src = page.getByLabel('Källkod');
  await src.fill('kb.on("booking.requested", function(e)\n  if e.payload.visit_form == "video" then kb.reject("Ring oss först") end\nend)\n');
  await page.getByRole('button', {name: 'Provkör'}).click();
  await waitForMessage(page, 'Händelsen nekas: Ring oss först');
  await page.getByRole('button', {name: 'Kontrollera och spara'}).click();
  await waitForMessage(page, 'triage.lua är sparat och körs (version 2).');
  assert.match(readFileSync(join(box.dir, 'scripts', 'triage.lua'), 'utf8'), /Ring oss först/);
});
