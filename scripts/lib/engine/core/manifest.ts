/** Reading and presenting a bundle's manifest (pure). */
import { manifestSchema, parseWith, type Manifest } from "./schemas";

/** "+add ~change -destroy (n replaced)". */
export const countsLine = (m: Pick<Manifest, "counts">): string => `+${m.counts.add} ~${m.counts.change} -${m.counts.destroy} (${m.counts.replace} replaced)`;

/** The manifest of a bundle a decision already accepted (so it parses). */
export const parsedManifest = (text: string | null): Manifest => {
  const p = parseWith(manifestSchema, text ?? "");
  if (!p.ok) throw new Error("unreachable: the decision parsed the manifest");
  return p.value;
};

/** The head of summary.txt: what the bundle is, for whom, from which code, against which state. */
export function manifestHeader(m: Omit<Manifest, "summarySha256">): string {
  const lines = [
    `Environment: ${m.env}   bundle ${m.id}`,
    ...(m.speculative ? ["SPECULATIVE: a preview (promote plan --speculative); it can never be approved or applied"] : []),
    ...(m.rollback ? [`ROLLBACK:    to ${m.rollback.toTag} (commit ${m.rollback.toCommit}); the env ran ${m.rollback.fromCommit ?? "(nothing recorded)"}`] : []),
    `Commit:      ${m.git.commit}${m.git.dirty ? "   (DIRTY TREE: uncommitted changes were present)" : ""}`,
    `Created:     ${m.createdAt} by ${m.createdBy}; expires ${m.expiresAt}`,
    `Terraform:   ${m.terraform.version}; providers ${Object.entries(m.terraform.providers).map(([k, v]) => `${k.split("/").slice(-1)[0]} ${v}`).join(", ") || "-"}`,
    `Backend:     ${m.backend.type} ${m.backend.bucket ?? "-"}/${m.backend.key ?? "-"} (lock ${m.backend.lockTable ?? "-"}); account ${m.account}`,
    `Prior state: ${m.priorState ? `serial ${m.priorState.serial}, lineage ${m.priorState.lineage}` : "none (first apply)"}`,
    `Plan SHA-256: ${m.plan.sha256}`,
  ];
  return `${lines.join("\n")}\n`;
}
