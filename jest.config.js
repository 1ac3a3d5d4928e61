/**
 * Two projects, run separately (`npm run test:unit`, `npm run test:integration`; `npm test` runs both, in order):
 *   unit         hermetic: node, npm and git only (no terraform, no emulator, no network, no setup step)
 *   integration  real terraform against the local emulator, terraform validate, setup, actionlint, the browser
 */
const common = {
  preset: "ts-jest",
  testEnvironment: "node",
  setupFiles: ["<rootDir>/__tests__/helpers/jest-env.ts"],
  // .local/ holds fetched toolchains (Node 22 and 24 packages, the venv, cdktn scratch copies): not modules of the project
  modulePathIgnorePatterns: ["<rootDir>/.local/"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false }, isolatedModules: true }] },
};

// Two workers. Four were tried for the integration project (its suites wait on the AWS provider's fixed
// delays, so two leave some CPU idle): 1,319 s instead of 1,943 s in one run, but in the next a suite's
// emulator answered so late under the load that terraform's retried DynamoDB lock write found its own lock
// (secrets.test, "Error acquiring the state lock"), so the integration run stays at two.
module.exports = {
  maxWorkers: 2,
  projects: [
    { ...common, displayName: "unit", setupFiles: [...common.setupFiles, "<rootDir>/__tests__/helpers/unit-env.ts"], testMatch: ["<rootDir>/__tests__/unit/**/*.test.ts"] },
    { ...common, displayName: "integration", testMatch: ["<rootDir>/__tests__/integration/**/*.test.ts"] },
  ],
};
