// The unit project is hermetic (no emulator, no network): its engine runs choose the local-directory store,
// the one setting that does (PROMOTE_STORE=local). Integration tests run on the default, each env's S3 store.
process.env.PROMOTE_STORE = "local";
