/**
 * The refusals only the shared store (scripts/lib/store/, PROMOTE_STORE=s3) gives: listed once, here, for
 * the engine's registry (core/rules.ts, RULES.md) and the store's own (store/errors.ts STORE_RULES).
 */
export const STORE_ONLY_RULES = [
  {
    id: "BUNDLE-INCOMPLETE",
    info: "The bundle has no commit marker in the store, or an object the marker lists is missing or differs from it.",
    explanation: "A bundle becomes visible only when every file is written and its marker last: a plan interrupted halfway is never reviewed or applied.",
    fix: "run `promote plan <env>` again",
  },
  {
    id: "BUNDLE-EXISTS",
    info: "A bundle with this id (or one of its files) already exists in the store.",
    explanation: "Bundle files are create-only: nothing overwrites a bundle that may already have been reviewed.",
    fix: "plan again (a new bundle id)",
  },
  {
    id: "STORE-ACCOUNT-MISMATCH",
    info: "The configured store bucket does not belong to the env's account.",
    explanation: "Bundles, approvals and audit of an env live in its own account; a bucket of another account would hand them to that account's owners.",
    fix: "set store.bucket in envs/<env>.ts to the bucket bootstrap created in the env's account, and run `promote bootstrap <env>`",
  },
  {
    id: "STORE-KEY-MISMATCH",
    info: "A plan file in the store is not encrypted with the env's own KMS key.",
    explanation: "Plan files hold state and secret values; only the env's key (readable by the env's roles) may protect them.",
    fix: "run `promote plan <env>` again; check who wrote the object (the audit log, CloudTrail)",
  },
  {
    id: "EPHEMERAL-CIDR-TAKEN",
    info: "Every CIDR of the ephemeral pool is claimed (or the one asked for is claimed by another env).",
    explanation: "Claims are conditional writes in dev's lock table: two machines never hand out the same CIDR.",
    fix: "destroy an ephemeral env (`promote env destroy pr-<n>`) or `promote env reap`",
  },
  {
    id: "LEASE-NOT-HELD",
    info: "`promote unlock <env>` found no lease of the env in its lock table: nobody holds it.",
    explanation: "Breaking a lease is done on purpose and audited; with nothing to break, nothing is changed and the request is recorded as refused.",
    fix: "nothing to unlock: run the refused command again; a terraform state lock is removed with `promote unlock <env> <lock id>` (the id STATE-LOCKED names)",
  },
  {
    id: "LEASE-CHANGED",
    info: "The env's lease changed between `promote unlock <env>` reading it and breaking it: renewed by its holder, released, or taken by another run.",
    explanation: "The break is a conditional delete of exactly the lease that was read and named: a holder that renewed is alive, and a lease taken since is another run's.",
    fix: "nothing was broken: run `promote unlock <env>` again to see who holds it now, and break it only when you know that holder is dead",
  },
] as const;
