// The auditor's visit: verify the ledger, download every export, see the charts. Read-only:
// nothing on these pages changes anything.
import { test, expect } from '@playwright/test';
import { people, session } from './helpers';

test('the auditor verifies the ledger, downloads every export and sees the charts', async ({ browser }) => {
  const { page, context } = await session(browser, people.auditor);
  await expect(page).toHaveURL(/\/ledger$/);

  await page.goto('/ledger/verify');
  await expect(page.locator('#result')).toContainText(/verified: \d+ entries, head hash [0-9a-f]{64}/);

  await page.goto('/ledger/exports');
  const links = page.locator('main li a[href^="/ledger/export?format="]');
  const count = await links.count();
  expect(count).toBeGreaterThanOrEqual(9); // four formats and a snapshot per registry
  for (let i = 0; i < count; i++) {
    const [download] = await Promise.all([page.waitForEvent('download'), links.nth(i).click()]);
    const bytes = Buffer.concat(await (await download.createReadStream()).toArray());
    expect(bytes.length, await links.nth(i).innerText()).toBeGreaterThan(0);
    if (download.suggestedFilename().endsWith('.json')) {
      expect(() => JSON.parse(bytes.toString('utf8'))).not.toThrow();
    }
  }

  await page.goto('/stats');
  const charts = page.locator('figure svg[role="img"]');
  expect(await charts.count()).toBeGreaterThanOrEqual(4);
  await expect(page.locator('main')).toContainText('Price per address');

  // Auditors change nothing: no action on a transfer page.
  await page.goto('/transfers/11');
  await expect(page.locator('#next')).toHaveCount(0);
  await context.close();
});
