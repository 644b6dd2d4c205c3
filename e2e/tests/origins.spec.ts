// A hostmaster records how a holder came by its space, from the block lookup, and the rules
// read it: legacy space at AFRINIC may leave the region once AFRINIC takes part.
import { test, expect } from '@playwright/test';
import { people, session, expectAccessible, expectFits } from './helpers';

test('an ARIN hostmaster records a holding\'s origin with a reason, and it shows in its history', async ({ browser }) => {
  // Both projects share one demo database: each records on a different holding.
  const address = test.info().project.name === 'phone' ? '15.160.0.1' : '4.0.0.1';
  const { page, context } = await session(browser, people.arin1);
  await page.goto(`/lookup?q=${address}`);
  const records = page.locator('.holdings tbody a', { hasText: 'Records' }).first();
  await records.click();
  await expect(page.locator('#origin-now')).toHaveText('Registry issued');
  await expectAccessible(page);
  await expectFits(page);

  // Without a reason, nothing changes and the field says why.
  await page.getByLabel('Waiting list').check();
  await page.getByRole('button', { name: 'Record the origin' }).click();
  await expect(page.locator('.error-summary')).toContainText('Enter why');
  await expect(page.locator('#origin-now')).toHaveText('Registry issued');

  await page.getByLabel('Waiting list').check();
  await page.getByLabel('Why: the record it rests on').first().fill('Issued from the NRPM 4.1.8 waiting list (ticket 2024-0117).');
  await page.getByRole('button', { name: 'Record the origin' }).click();
  await expect(page.locator('.banner')).toContainText('Origin recorded: waiting list');
  await expect(page.locator('#origin-now')).toHaveText('Waiting list');
  await expect(page.locator('#changes')).toContainText('Registry issued → Waiting list');
  await expect(page.locator('#changes')).toContainText('ticket 2024-0117');
  await expect(page.locator('#changes')).toContainText('Priya Shah');
  await context.close();

  // Another registry's hostmaster reads it but is offered no form.
  const ripe = await session(browser, people.ripe1);
  await ripe.page.goto(`/lookup?q=${address}`);
  await ripe.page.locator('.holdings tbody a', { hasText: 'Records' }).first().click();
  await expect(ripe.page.locator('#origin-now')).toHaveText('Waiting list');
  await expect(ripe.page.locator('#origin-form')).toHaveCount(0);
  await ripe.context.close();
});
