// The other paths people take: within one registry, a question and its answer, a rejection,
// a withdrawal, and a large transfer that needs a second hostmaster.
import { test, expect } from '@playwright/test';
import {
  people, session, fileTransfer, accept, approve, confirmFeesAndFinalize, mailTo, recordSwapException,
} from './helpers';

test('an intra-RIR transfer at ARIN is reviewed once and completes', async ({ browser }) => {
  const source = await session(browser, people.meridian);
  const { path, reference } = await fileTransfer(source.page, 'Great Lakes Data Corp.', '4.1.0.0/24');
  await expect(source.page.locator('#summary')).toContainText('ARIN (intra-RIR)');
  const recipient = await session(browser, people.greatlakes);
  await accept(recipient.page, path);
  const arin = await session(browser, people.arin1);
  // Meridian received space from Pampa this year: ARIN's hold blocks until ARIN-2020-6 is
  // recorded with a reason.
  await arin.page.goto(path);
  await expect(arin.page.locator('.findings')).toContainText('a source may not have received IPv4 space from ARIN');
  await recordSwapException(arin.page, path);
  await expect(arin.page.locator('#history, main')).toContainText('ARIN-2020-6 applies');
  await approve(arin.page, path, 'source');
  await confirmFeesAndFinalize(arin.page, path);
  await expect(arin.page.locator('h1 .tag')).toHaveText('Completed');
  await expect(arin.page.locator('h1 .nro')).toHaveCount(0);
  await mailTo(people.greatlakes, `${reference}: transfer completed`);
  for (const s of [source, recipient, arin]) await s.context.close();
});

test('a request for information is answered and the review goes on to approval', async ({ browser }) => {
  const source = await session(browser, people.northwind);
  const { path, reference } = await fileTransfer(source.page, 'Rhône Fibre SAS', '3.3.0.0/22');
  const recipient = await session(browser, people.rhone);
  await accept(recipient.page, path);
  const arin = await session(browser, people.arin1);
  await arin.page.goto(path);
  await arin.page.getByText('Ask an organisation for information').click();
  await arin.page.getByLabel('Your question').fill('Who signed the transfer agreement for Northwind?');
  await arin.page.getByRole('button', { name: 'Send the question' }).click();
  await expect(arin.page.locator('h1 .tag')).toHaveText('Information requested');

  const asked = await mailTo(people.northwind, `${reference}: information requested`);
  await source.page.goto(asked.text.match(/http:\/\/127\.0\.0\.1:3000\/\S+/)![0]);
  await expect(source.page.locator('#answer-form')).toContainText('Who signed the transfer agreement');
  await source.page.getByLabel('Your answer').fill('Our CFO, Dana Smith, on 2 November.');
  await source.page.getByRole('button', { name: 'Send the answer' }).click();
  await expect(source.page.locator('h1 .tag')).toHaveText('Source review');

  await approve(arin.page, path, 'source');
  await expect(arin.page.locator('#timeline')).toContainText('Our CFO, Dana Smith');
  await expect(arin.page.locator('h1 .tag')).toHaveText('Recipient review');
  for (const s of [source, recipient, arin]) await s.context.close();
});

test('a rejection shows its reason to the filer', async ({ browser }) => {
  const source = await session(browser, people.northwind);
  const { path, reference } = await fileTransfer(source.page, 'Thames Broadband Ltd', '3.4.0.0/22');
  const recipient = await session(browser, people.thames);
  await accept(recipient.page, path);
  const arin = await session(browser, people.arin1);
  await arin.page.goto(path);
  await arin.page.getByRole('link', { name: 'Reject…' }).click();
  await expect(arin.page.locator('.panel')).toContainText('no address moves');
  await arin.page.getByRole('button', { name: 'Reject for ARIN' }).click();
  await expect(arin.page.locator('.error-summary')).toContainText('Enter the reason for rejecting');
  await arin.page.getByLabel('Reason for rejecting').fill('The agreement is not signed by an officer of Northwind (NRPM 8.2).');
  await arin.page.getByRole('button', { name: 'Reject for ARIN' }).click();
  await expect(arin.page.locator('h1 .tag')).toHaveText('Rejected');

  await mailTo(people.northwind, `${reference}: transfer rejected`);
  await source.page.goto(path);
  await expect(source.page.locator('h1 .tag')).toHaveText('Rejected');
  await expect(source.page.locator('#timeline')).toContainText('not signed by an officer of Northwind');
  for (const s of [source, recipient, arin]) await s.context.close();
});

test('the filer withdraws after a confirmation page', async ({ browser }) => {
  const source = await session(browser, people.northwind);
  const { path, reference } = await fileTransfer(source.page, 'Rhône Fibre SAS', '3.5.0.0/22');
  await source.page.getByRole('link', { name: 'Withdraw…' }).click();
  await expect(source.page.locator('.panel')).toContainText('stops for good');
  await source.page.getByRole('button', { name: 'Withdraw this transfer' }).click();
  await expect(source.page.locator('h1 .tag')).toHaveText('Withdrawn');
  await mailTo(people.rhone, `${reference}: transfer withdrawn`);
  await source.context.close();
});

test('a large transfer needs a second hostmaster to finalize', async ({ browser }) => {
  const source = await session(browser, people.meridian);
  const { path } = await fileTransfer(source.page, 'Great Lakes Data Corp.', '4.2.0.0/16');
  const recipient = await session(browser, people.greatlakes);
  await accept(recipient.page, path);
  const first = await session(browser, people.arin1);
  await recordSwapException(first.page, path);
  await approve(first.page, path, 'source');
  await first.page.getByRole('button', { name: 'Confirm the fees are paid' }).click();
  await first.page.getByRole('link', { name: 'Finalize…' }).click();
  await expect(first.page.locator('.panel')).toContainText('second ARIN hostmaster');
  await first.page.getByRole('button', { name: 'Finalize the transfer' }).click();
  await expect(first.page.locator('.banner')).toContainText('second hostmaster');
  await expect(first.page.locator('h1 .tag')).toHaveText('Awaiting finalization');
  await expect(first.page.getByRole('link', { name: 'Finalize…' })).toHaveCount(0);

  const second = await session(browser, people.arin2);
  await second.page.goto(`${path}/finalize`);
  await second.page.getByRole('button', { name: 'Finalize the transfer' }).click();
  await expect(second.page.locator('h1 .tag')).toHaveText('Completed');
  for (const s of [source, recipient, first, second]) await s.context.close();
});
