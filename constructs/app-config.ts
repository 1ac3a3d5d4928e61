import { Construct } from "constructs";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";

export interface AppConfigProps {
  /** Path prefix of every parameter, starting with "/" and without a trailing one, e.g. "/dev". */
  readonly parameterPrefix: string;
  /** Plain settings, written to `<prefix>/app/<KEY>` as String parameters. @default {} */
  readonly settings?: Readonly<Record<string, string>>;
  /** Feature flags, written to `<prefix>/flags/<name>` as "true" / "false". @default {} */
  readonly featureFlags?: Readonly<Record<string, boolean>>;
}

/** The app's plain configuration and feature flags as SSM parameters (never secrets: see Secrets). */
export class AppConfig extends Construct {
  /** Parameter names written, in order (settings, then flags). */
  readonly parameterNames: string[] = [];

  constructor(scope: Construct, id: string, props: AppConfigProps) {
    super(scope, id);
    if (!/^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(props.parameterPrefix)) {
      throw new Error(`parameterPrefix must look like "/dev" (a leading, no trailing "/"), but "${props.parameterPrefix}" was provided`);
    }
    const write = (id: string, name: string, value: string, description: string) => {
      new SsmParameter(this, id, { name, type: "String", value, description });
      this.parameterNames.push(name);
    };
    for (const [key, value] of Object.entries(props.settings ?? {})) {
      write(`app-${key}`, `${props.parameterPrefix}/app/${key}`, value, `App setting ${key}`);
    }
    for (const [flag, on] of Object.entries(props.featureFlags ?? {})) {
      write(`flag-${flag}`, `${props.parameterPrefix}/flags/${flag}`, on ? "true" : "false", `Feature flag ${flag}`);
    }
  }
}
