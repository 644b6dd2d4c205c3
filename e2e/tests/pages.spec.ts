// The first page of each role: screenshots for the user guide and an accessibility check with
// axe-core in the same browser (no serious or critical violation).
import { test } from '@playwright/test';
import { people, session, expectAccessible, picture } from './helpers';

const mainPages: [string, string, string][] = [
  ['member-transfers', people.northwind, '/transfers?show=all'],
  ['member-file-transfer', people.northwind, '/transfers/new'],
  ['hostmaster-queue', people.arin1, '/queue'],
  ['transfer-page', people.arin1, '/transfers/11'],
  ['auditor-ledger', people.auditor, '/ledger'],
  ['auditor-statistics', people.auditor, '/stats'],
  ['admin-attention', people.admin, '/admin'],
  ['block-lookup', people.auditor, '/lookup?q=3.0.0.0/16'],
];

for (const [name, who, path] of mainPages) {
  test(`${name} is accessible`, async ({ browser }) => {
    const { page, context } = await session(browser, who);
    await page.goto(path);
    await expectAccessible(page);
    await picture(page, name);
    await context.close();
  });
}

test('the sign-in page is accessible', async ({ page }) => {
  await page.goto('/login');
  await expectAccessible(page);
  await picture(page, 'sign-in');
});
