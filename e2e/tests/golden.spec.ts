// The golden inter-RIR path, as its people click it: ARIN to RIPE NCC, accepted from the
// e-mail's link, reviewed by both registries, finalized, and found again by the auditor.
import { test, expect } from '@playwright/test';
import {
  people, session, fileTransfer, accept, approve, confirmFeesAndFinalize, mailTo, mailsTo, linkIn,
  signIn, newContext, onPhone, expectFits,
} from './helpers';

test('ARIN to RIPE NCC: filed, accepted from the e-mail, approved twice, finalized, found by the auditor', async ({ browser }) => {
  // Both projects share one demo database: the phone moves another of Northwind's blocks.
  const [block, address] = onPhone() ? ['3.8.0.0/22', '3.8.1.7'] : ['3.2.0.0/22', '3.2.1.7'];
  const source = await session(browser, people.northwind);
  const { path, reference } = await fileTransfer(source.page, 'Rhône Fibre SAS', block, { price: '48000' });
  await expect(source.page.locator('h1 .tag')).toHaveText('Awaiting recipient');
  await expectFits(source.page);

  // The recipient reads the e-mail and follows its link; it asks them to sign in first.
  const invite = await mailTo(people.rhone, reference);
  expect(invite.subject).toContain('asks you to accept');
  const recipientContext = await newContext(browser);
  const recipient = await recipientContext.newPage();
  await recipient.goto(linkIn(invite));
  await expect(recipient).toHaveURL(/\/login\?next=/);
  await signIn(recipient, people.rhone);
  await expect(recipient).toHaveURL(new RegExp(`${path}$`));
  await accept(recipient, path);
  await expect(recipient.locator('h1 .tag')).toHaveText('Source review');
  await expectFits(recipient);

  // ARIN reviews the source side, from its queue.
  const arin = await session(browser, people.arin1);
  await mailTo(people.arin1, reference);
  await arin.page.goto('/queue');
  await expectFits(arin.page);
  await arin.page.getByRole('link', { name: reference }).click();
  await expect(arin.page.locator('#summary')).toContainText(`${block}, 1,024 addresses`);
  await approve(arin.page, path, 'source');

  // RIPE NCC reviews the recipient side; the NRO status is published from here on.
  const ripe = await session(browser, people.ripe1);
  await approve(ripe.page, path, 'recipient');
  await expect(ripe.page.locator('h1 .nro')).toHaveText('RECIPIENT_ACCEPTED');

  // ARIN confirms the fees and finalizes.
  await confirmFeesAndFinalize(arin.page, path);
  await expect(arin.page.locator('.banner')).toContainText('is complete');
  await expect(arin.page.locator('h1 .tag')).toHaveText('Completed');
  await expect(arin.page.locator('h1 .nro')).toHaveText('SOURCE_FINALIZED');
  await expectFits(arin.page);

  // Both organisations hear of it, with the ledger entry's hash.
  for (const who of [people.northwind, people.rhone]) {
    const done = await mailTo(who, `${reference}: transfer completed`);
    expect(done.text).toMatch(/[0-9a-f]{64}/);
  }
  expect(await mailsTo(people.rhone, `${reference}: transfer completed`)).toHaveLength(1);

  // The block lookup shows the new holder.
  await source.page.goto(`/lookup?q=${encodeURIComponent(block)}`);
  await expect(source.page.locator('main')).toContainText('Rhône Fibre SAS');
  await expect(source.page.locator('main')).toContainText('RIPE NCC');
  await expectFits(source.page);

  // The auditor finds the entry by one of its addresses and downloads the NRO export.
  const auditor = await session(browser, people.auditor);
  await auditor.page.goto('/ledger');
  await auditor.page.getByLabel(/Address or range/).fill(address);
  await auditor.page.getByRole('button', { name: /Search|Filter|Show/ }).first().click();
  await expect(auditor.page.locator('main')).toContainText(reference);
  await expect(auditor.page.locator('#filters-in-use')).toContainText(`Address or range: ${address}`);
  await expectFits(auditor.page);
  await auditor.page.getByRole('link', { name: reference }).first().click();
  await expect(auditor.page.locator('main')).toContainText(block);
  await auditor.page.goto('/ledger/exports');
  const [download] = await Promise.all([
    auditor.page.waitForEvent('download'),
    auditor.page.getByRole('link', { name: /transfer log 4\.0/i }).first().click(),
  ]);
  const body = await (await download.createReadStream()).toArray();
  const log = JSON.parse(Buffer.concat(body).toString('utf8'));
  expect(log.transfers.some((t: { ip4nets?: unknown }) => JSON.stringify(t).includes(block.split('/')[0]))).toBeTruthy();

  for (const c of [source.context, recipientContext, arin.context, ripe.context, auditor.context]) {
    await c.close();
  }
});
