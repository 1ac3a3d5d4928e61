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

// Two workers for unit tests (CPU only). The integration scripts in package.json ask for four: their suites
// spend much of their time in the AWS provider's fixed waits (RDS, ALB, S3 lifecycle), so two workers left
// the 2 cores idle; measured on this machine, one integration run took 1,943 s with two and 1,319 s with four.
module.exports = {
  maxWorkers: 2,
  projects: [
    { ...common, displayName: "unit", setupFiles: [...common.setupFiles, "<rootDir>/__tests__/helpers/unit-env.ts"], testMatch: ["<rootDir>/__tests__/unit/**/*.test.ts"] },
    { ...common, displayName: "integration", testMatch: ["<rootDir>/__tests__/integration/**/*.test.ts"] },
  ],
};
