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

// Two workers for the unit project. The integration project runs with four (`--maxWorkers=4` in package.json's
// test scripts): its suites spend much of their time in the AWS provider's fixed waits, so two leave CPU
// idle. Four once failed a suite with "Error acquiring the state lock" on terraform's own lock: not the
// load itself but the emulator sending a response's headers and body apart, which the load made visible
// (patch http_response_one_send, scripts/emulator/README.md).
module.exports = {
  maxWorkers: 2,
  projects: [
    { ...common, displayName: "unit", setupFiles: [...common.setupFiles, "<rootDir>/__tests__/helpers/unit-env.ts"], testMatch: ["<rootDir>/__tests__/unit/**/*.test.ts"] },
    { ...common, displayName: "integration", testMatch: ["<rootDir>/__tests__/integration/**/*.test.ts"] },
  ],
};
