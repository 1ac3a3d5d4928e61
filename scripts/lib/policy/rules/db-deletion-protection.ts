/**
 * POLICY-DB-DELETION-PROTECTION: where the env config asks for it (database.deletionProtection),
 * every database in the plan has deletion_protection = true.
 */
import { afterOf, isUnknown, resultingResources, show, UNKNOWN } from "../plan";
import type { CheckResult, PolicyContext, PolicyRule, Violation } from "../types";

export const DATABASE_TYPES: readonly string[] = ["aws_db_instance", "aws_rds_cluster", "aws_docdb_cluster", "aws_neptune_cluster"];

function check(ctx: PolicyContext): CheckResult {
  if (!ctx.env.database.deletionProtection) return { status: "not-applicable" };
  const dbs = resultingResources(ctx.plan, DATABASE_TYPES);
  if (dbs.length === 0) return { status: "not-applicable" };
  const violations: Violation[] = [];
  for (const rc of dbs) {
    const found = isUnknown(rc, ["deletion_protection"]) ? UNKNOWN : afterOf(rc).deletion_protection;
    if (found !== true) {
      violations.push({
        address: rc.address,
        attribute: "deletion_protection",
        expected: `true (envs/${ctx.env.name}: database.deletionProtection is true)`,
        found: found === UNKNOWN ? UNKNOWN : show(found),
      });
    }
  }
  return violations.length ? { status: "fail", violations } : { status: "pass" };
}

export const dbDeletionProtection: PolicyRule = {
  id: "POLICY-DB-DELETION-PROTECTION",
  level: "error",
  info: "Databases have deletion_protection = true where the env config sets database.deletionProtection.",
  explanation:
    "Deletion protection makes AWS itself refuse to delete the database, whatever terraform, a console click or a script asks; " +
    "the env config states the intent, and the plan must not quietly turn it off.",
  fix: "Wire database.deletionProtection of the env config to deletion_protection of the database construct; to delete a database on purpose, first change the config in a reviewed commit.",
  check,
};
