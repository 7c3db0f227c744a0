/**
 * Jest runs the TypeScript sources as native ES modules (Agenda 6 is ESM-only), so the test
 * script starts node with --experimental-vm-modules. One embedded database serves the whole run
 * (test/support/global-setup.mjs); every test file gets a database of its own on it.
 */
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  maxWorkers: 2,
  testTimeout: 30000,
  // Agenda leaves a lock-watchdog timer per finished job that outlives agenda.stop() (up to half a
  // job's lock lifetime); every resource we own is closed in the tests, so don't wait for those.
  forceExit: true,
};
