// The main pages of each role, on a desktop and (in the phone project) at 390 x 844: each is no
// wider than the screen, has no serious or critical axe-core violation, and is pictured for the
// user guide (docs/screenshots/, `-phone` for the phone's pictures).
import { test } from '@playwright/test';
import { people, session, expectAccessible, expectFits, picture } from './helpers';

const mainPages: [string, string, string][] = [
  ['member-transfers', people.northwind, '/transfers?show=all'],
  ['member-file-transfer', people.northwind, '/transfers/new'],
  ['hostmaster-queue', people.arin1, '/queue'],
  ['transfer-page', people.arin1, '/transfers/11'],
  ['auditor-ledger', people.auditor, '/ledger'],
  ['auditor-ledger-filtered', people.auditor, '/ledger?address=3.0.0.0%2F8&registry=ARIN'],
  ['auditor-ledger-entry', people.auditor, '/ledger/1'],
  ['auditor-statistics', people.auditor, '/stats'],
  ['auditor-verify', people.auditor, '/ledger/verify'],
  ['admin-attention', people.admin, '/admin'],
  ['admin-users', people.admin, '/admin/users'],
  ['admin-organisations', people.admin, '/admin/organisations'],
  ['admin-policy', people.admin, '/admin/policy'],
  ['block-lookup', people.auditor, '/lookup?q=3.0.0.0/16'],
];

for (const [name, who, path] of mainPages) {
  test(`${name} fits the screen and is accessible`, async ({ browser }) => {
    const { page, context } = await session(browser, who);
    await page.goto(path);
    await expectFits(page);
    await expectAccessible(page);
    await picture(page, name);
    await context.close();
  });
}

const publicPages: [string, string][] = [
  ['sign-in', '/login'],
  ['home', '/'],
  ['public-holdings', '/holdings'],
];

for (const [name, path] of publicPages) {
  test(`the public page ${name} fits the screen and is accessible`, async ({ page }) => {
    await page.goto(path);
    await expectFits(page);
    await expectAccessible(page);
    await picture(page, name);
  });
}
