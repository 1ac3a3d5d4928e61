/** `promote policy <env> [bundle] [--markdown]`: a bundle's recorded policy findings. */
import { join } from "node:path";
import { blocksApproval, formatFindings, formatFindingsMarkdown, type Finding } from "../../policy";
import { decideReview } from "../core/decisions";
import { must, RefusalError, refusal } from "../core/errors";
import { envFacts } from "../core/facts";
import { sha256File } from "../io/files";
import { parsedManifest } from "../core/manifest";
import { fixFor } from "../core/rules";
import { parseWith, policyFileSchema } from "../core/schemas";
import { FILES, readBundle } from "../io/bundle";
import { bundleDirOrRefuse, envConfig, type EngineContext } from "../io/context";

export interface PolicyShowOptions {
  readonly env: string;
  readonly bundle?: string;
  /** Markdown (for $GITHUB_STEP_SUMMARY) instead of text. @default false */
  readonly markdown?: boolean;
}

/**
 * Prints a bundle's recorded policy findings (after checking the bundle is intact: policy.json is the one
 * the manifest records). Returns whether they block approval.
 */
export async function showPolicy(ctx: EngineContext, o: PolicyShowOptions): Promise<{ blocks: boolean; findings: Finding[] }> {
  const cfg = envConfig(ctx, o.env);
  const dir = await bundleDirOrRefuse(ctx, cfg.name, o.bundle);
  const files = readBundle(dir);
  must(decideReview({ env: envFacts(cfg), ...files, summaryFileSha256: sha256File(join(dir, FILES.summary)), now: ctx.now() }));
  const m = parsedManifest(files.manifestText);
  const parsed = parseWith(policyFileSchema, files.policyText ?? "");
  if (!parsed.ok) throw new RefusalError(refusal("POLICY-BLOCKED", "a policy.json matching the policy file schema", parsed.reason, fixFor("POLICY-BLOCKED", cfg.name)));
  const findings = parsed.value.findings as Finding[];
  const blocks = blocksApproval(findings);
  if (o.markdown) ctx.io.out(`### Policy: ${m.env} bundle ${m.id}${m.speculative ? " (speculative)" : ""}\n\n${formatFindingsMarkdown(findings)}`);
  else ctx.io.out(`Bundle ${m.env}/${m.id}${m.speculative ? " (speculative)" : ""}; exceptions: ${parsed.value.exceptionsFile ?? "none"}\n${formatFindings(findings)}`);
  return { blocks, findings };
}

