/** Unit tests (fast, no emulator) and integration tests (real terraform against the local emulator). */
const common = {
  preset: "ts-jest",
  testEnvironment: "node",
  setupFiles: ["<rootDir>/__tests__/helpers/jest-env.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false }, isolatedModules: true }] },
};

module.exports = {
  maxWorkers: 2,
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/__tests__/unit/**/*.test.ts"] },
    { ...common, displayName: "integration", testMatch: ["<rootDir>/__tests__/integration/**/*.test.ts"] },
  ],
};
