// Policy at work on the filing form: each refusal quotes the rule's message on the page and
// stores nothing.
import { test, expect } from '@playwright/test';
import { people, session, chooseRecipient } from './helpers';

async function tryFiling(page: import('@playwright/test').Page, recipient: string, blocks: string) {
  await page.goto('/transfers/new');
  await chooseRecipient(page, recipient);
  await page.getByLabel('Blocks to transfer').fill(blocks);
  await page.getByRole('button', { name: 'File transfer' }).click();
  await expect(page.locator('.error-summary')).toBeVisible();
  await expect(page.getByLabel('Blocks to transfer')).toHaveValue(blocks);
  return page.locator('.error-summary');
}

test('a block the source does not hold is refused', async ({ browser }) => {
  const { page, context } = await session(browser, people.northwind);
  // 4.0.0.0/24 is Meridian's.
  const summary = await tryFiling(page, 'Rhône Fibre SAS', '4.0.0.0/24');
  await expect(summary).toContainText('4.0.0.0/24');
  await expect(summary).toContainText('Northwind Cloud Inc.');
  await context.close();
});

test('a block inside another transfer in flight is refused', async ({ browser }) => {
  const { page, context } = await session(browser, people.northwind);
  // The demo's 3.1.0.0/16 awaits its second finalization.
  const summary = await tryFiling(page, 'Rhône Fibre SAS', '3.1.0.0/24');
  await expect(summary).toContainText(/TX-\d{4}-\d{6}/);
  await context.close();
});

test('a block still inside its holding period is refused', async ({ browser }) => {
  const { page, context } = await session(browser, people.rhone);
  // Rhône received 3.0.4.0/22 by transfer this year; RIPE NCC holds it for 24 months.
  const summary = await tryFiling(page, 'Thames Broadband Ltd', '3.0.4.0/22');
  await expect(summary).toContainText('24 months');
  await expect(summary).toContainText('ripe-807');
  await context.close();
});

test('a malformed block is explained next to the field', async ({ browser }) => {
  const { page, context } = await session(browser, people.northwind);
  const summary = await tryFiling(page, 'Rhône Fibre SAS', '198.51.100.0/33');
  await expect(summary).toContainText('"198.51.100.0/33" is not a valid prefix');
  await expect(page.locator('.field.has-error .field-error')).toContainText('not a valid prefix');
  await context.close();
});
