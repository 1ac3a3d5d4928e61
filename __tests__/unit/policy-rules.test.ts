/**
 * Each policy rule on crafted `terraform show -json` plans (__tests__/fixtures/plans): a refusal
 * names the rule id, the address, the attribute, what was expected and what was found; the
 * compliant prod plan passes every rule. Tests match ids, never wording.
 */
import { addResource, cfg, envConfig, findings, loadPlan, rc } from "../fixtures/plans/plans";

const prod = envConfig("prod");
const dev = envConfig("dev");

describe("the compliant prod plan", () => {
  it("passes every rule in prod", () => {
    expect(findings(loadPlan("prod-compliant"), prod)).toEqual([]);
  });
});

describe("POLICY-STATEFUL-DESTROY: no destroy or replace of a stateful resource in an env that protects them", () => {
  const ID = "POLICY-STATEFUL-DESTROY";

  it("refuses a database replace and a bucket destroy in prod, naming the attribute that forces the replace", () => {
    const f = findings(loadPlan("replace-database"), prod, {}, ID);
    expect(f.map((x) => [x.level, x.address])).toEqual([
      ["error", "aws_db_instance.db"],
      ["error", "aws_s3_bucket.old_logs"],
    ]);
    expect(f[0]).toMatchObject({ attribute: "identifier", found: expect.stringContaining("replace [delete, create]") });
    expect(f[1].found).toContain("destroy");
  });

  it("refuses a create-before-destroy replace ([create, delete]) of a cache", () => {
    const plan = loadPlan("prod-compliant");
    rc(plan, "aws_elasticache_replication_group.cache").change.actions = ["create", "delete"];
    expect(findings(plan, prod, {}, ID).map((x) => x.address)).toEqual(["aws_elasticache_replication_group.cache"]);
  });

  it("refuses a destroy of a secret, a table and a file system", () => {
    const plan = loadPlan("prod-compliant");
    rc(plan, "aws_secretsmanager_secret.jwt_secret").change.actions = ["delete"];
    rc(plan, "aws_dynamodb_table.sessions").change.actions = ["delete"];
    addResource(plan, "aws_efs_file_system", "shared", null, { actions: ["delete"], before: { encrypted: true } });
    expect(findings(plan, prod, {}, ID).map((x) => x.address).sort()).toEqual([
      "aws_dynamodb_table.sessions",
      "aws_efs_file_system.shared",
      "aws_secretsmanager_secret.jwt_secret",
    ]);
  });

  it("refuses when the env config asks for protection through options even in dev", () => {
    const f = findings(loadPlan("replace-database"), dev, { protectStateful: true }, ID);
    expect(f.every((x) => x.level === "error")).toBe(true);
  });

  it("accepts the same changes in dev, reported as warnings that block nothing", () => {
    const f = findings(loadPlan("replace-database"), dev, {}, ID);
    expect(f.map((x) => x.level)).toEqual(["warning", "warning"]);
  });

  it("accepts a replace with a recorded exception, and keeps the reason in the finding", () => {
    const reason = "identifier rename agreed in #42; data restored from snapshot prod-db-final";
    const f = findings(loadPlan("replace-database"), prod, {
      exceptions: [
        { rule: ID, address: "aws_db_instance.db", reason },
        { rule: ID, address: "aws_s3_bucket.old_logs", reason: "bucket retired, its retention period ended", env: "prod" },
      ],
    });
    expect(f.map((x) => [x.id, x.address, x.waived?.reason])).toEqual([
      [ID, "aws_db_instance.db", reason],
      [ID, "aws_s3_bucket.old_logs", "bucket retired, its retention period ended"],
    ]);
  });

  it("accepts in-place updates and destroys of stateless resources", () => {
    const plan = loadPlan("prod-compliant");
    rc(plan, "aws_db_instance.db").change.actions = ["update"];
    rc(plan, "aws_launch_template.app").change.actions = ["delete", "create"];
    rc(plan, "aws_lb_listener.http").change.actions = ["delete"];
    expect(findings(plan, prod, {}, ID)).toEqual([]);
  });
});

describe("POLICY-ENV-TAG: every taggable resource carries environment = <env name>", () => {
  const ID = "POLICY-ENV-TAG";

  it("refuses a resource tagged with another env's name", () => {
    const plan = loadPlan("prod-compliant");
    rc(plan, "aws_s3_bucket.logs").change.after.tags_all.environment = "staging";
    expect(findings(plan, prod, {}, ID)).toEqual([
      expect.objectContaining({ address: "aws_s3_bucket.logs", attribute: "tags_all.environment", expected: '"prod"', found: '"staging"' }),
    ]);
  });

  it("refuses a taggable resource without the tag (no default_tags reached it)", () => {
    const plan = loadPlan("prod-compliant");
    rc(plan, "aws_vpc.network_vpc").change.after.tags_all = {};
    expect(findings(plan, prod, {}, ID)).toEqual([expect.objectContaining({ address: "aws_vpc.network_vpc", found: "(absent)" })]);
  });

  it("refuses tags known only after apply, unless the resource sets the tag itself", () => {
    const plan = loadPlan("prod-compliant");
    const vpc = rc(plan, "aws_vpc.network_vpc").change;
    delete vpc.after.tags_all;
    vpc.after_unknown.tags_all = true;
    expect(findings(plan, prod, {}, ID)).toEqual([expect.objectContaining({ address: "aws_vpc.network_vpc", found: "(known after apply)" })]);
    vpc.after.tags = { environment: "prod" };
    expect(findings(plan, prod, {}, ID)).toEqual([]);
  });

  it("accepts the same plan for another env only when the tag says that env", () => {
    const plan = loadPlan("prod-compliant");
    for (const c of plan.resource_changes) if (c.change.after?.tags_all) c.change.after.tags_all.environment = "dev";
    expect(findings(plan, dev, {}, ID)).toEqual([]);
    expect(findings(plan, prod, {}, ID).length).toBeGreaterThan(5);
  });

  it("accepts resources that have no tags (random_password, listeners' rules, ASGs)", () => {
    const plan = loadPlan("prod-compliant");
    expect(rc(plan, "random_password.db").change.after.tags_all).toBeUndefined();
    expect(findings(plan, prod, {}, ID)).toEqual([]);
  });
});

describe("POLICY-OPEN-INGRESS: no ingress from the internet except HTTPS (and redirected HTTP) on the load balancer", () => {
  const ID = "POLICY-OPEN-INGRESS";

  it("refuses SSH from 0.0.0.0/0 on the app's security group (aws_security_group_rule)", () => {
    expect(findings(loadPlan("open-ssh"), prod, {}, ID)).toEqual([
      expect.objectContaining({ address: "aws_security_group_rule.app_admin_ssh", attribute: "cidr_blocks", found: expect.stringContaining("0.0.0.0/0") }),
    ]);
  });

  it("refuses ::/0 on an aws_vpc_security_group_ingress_rule of the app's security group", () => {
    const plan = loadPlan("prod-compliant");
    Object.assign(rc(plan, "aws_vpc_security_group_ingress_rule.app_from_lb").change.after, { cidr_ipv6: "::/0" });
    expect(findings(plan, prod, {}, ID)).toEqual([
      expect.objectContaining({ address: "aws_vpc_security_group_ingress_rule.app_from_lb", attribute: "cidr_ipv6" }),
    ]);
  });

  it("refuses all ports (protocol -1) from the internet even on the load balancer", () => {
    const plan = loadPlan("prod-compliant");
    const ingress = rc(plan, "aws_security_group.lb_sg").change.after.ingress;
    ingress.push({ ...ingress[0], from_port: 0, to_port: 0, protocol: "-1", ipv6_cidr_blocks: [] });
    expect(findings(plan, prod, {}, ID)).toEqual([expect.objectContaining({ address: "aws_security_group.lb_sg", attribute: "ingress[2].cidr_blocks" })]);
  });

  it("refuses port 80 from the internet on the load balancer when no listener redirects it to HTTPS", () => {
    const plan = loadPlan("prod-compliant");
    rc(plan, "aws_lb_listener.http").change.after.default_action = [{ type: "forward" }];
    expect(findings(plan, prod, {}, ID)).toEqual([
      expect.objectContaining({ address: "aws_security_group.lb_sg", attribute: "ingress[1].cidr_blocks", found: expect.stringContaining("load balancer's") }),
    ]);
  });

  it("refuses 443 from the internet on a security group no load balancer uses", () => {
    const plan = loadPlan("prod-compliant");
    cfg(plan, "aws_lb.lb").expressions.security_groups = { references: ["aws_security_group.app_sg.id", "aws_security_group.app_sg"] };
    const f = findings(plan, prod, {}, ID);
    expect(f.map((x) => x.attribute)).toEqual(["ingress[0].cidr_blocks", "ingress[0].ipv6_cidr_blocks", "ingress[1].cidr_blocks"]);
  });

  it("refuses an inline ingress whose CIDRs are known only after apply (cannot be proven closed)", () => {
    const plan = loadPlan("prod-compliant");
    const sg = rc(plan, "aws_security_group.lb_sg").change;
    delete sg.after.ingress[0].cidr_blocks;
    sg.after_unknown.ingress = [{ cidr_blocks: true }, {}];
    expect(findings(plan, prod, {}, ID)).toEqual([expect.objectContaining({ attribute: "ingress[0].cidr_blocks", found: "(known after apply)" })]);
  });

  it("accepts 443 and redirected 80 on the load balancer, matched by id when both are already known", () => {
    const plan = loadPlan("prod-compliant");
    delete cfg(plan, "aws_lb.lb").expressions.security_groups;
    rc(plan, "aws_security_group.lb_sg").change.after.id = "sg-0123";
    const lb = rc(plan, "aws_lb.lb").change;
    lb.after.security_groups = ["sg-0123"];
    delete lb.after_unknown.security_groups;
    expect(findings(plan, prod, {}, ID)).toEqual([]);
  });

  it("accepts admin CIDRs and security-group sources", () => {
    expect(findings(loadPlan("prod-compliant"), prod, {}, ID)).toEqual([]);
  });
});

describe("POLICY-ENCRYPTION-AT-REST: buckets, databases, caches, tables and volumes are encrypted at rest", () => {
  const ID = "POLICY-ENCRYPTION-AT-REST";

  it("refuses a bucket without a server-side encryption configuration", () => {
    const plan = loadPlan("prod-compliant");
    cfg(plan, "aws_s3_bucket_server_side_encryption_configuration.logs").expressions.bucket = { references: ["aws_s3_bucket.other.id"] };
    expect(findings(plan, prod, {}, ID)).toEqual([
      expect.objectContaining({ address: "aws_s3_bucket.logs", attribute: "aws_s3_bucket_server_side_encryption_configuration" }),
    ]);
  });

  it("refuses an unencrypted database, cache, table and file system", () => {
    const plan = loadPlan("prod-compliant");
    rc(plan, "aws_db_instance.db").change.after.storage_encrypted = false;
    rc(plan, "aws_elasticache_replication_group.cache").change.after.at_rest_encryption_enabled = false;
    rc(plan, "aws_dynamodb_table.sessions").change.after.server_side_encryption = [];
    addResource(plan, "aws_efs_file_system", "shared", { encrypted: false, tags_all: { environment: "prod" } });
    expect(findings(plan, prod, {}, ID).map((x) => [x.address, x.attribute, x.found])).toEqual([
      ["aws_db_instance.db", "storage_encrypted", "false"],
      ["aws_elasticache_replication_group.cache", "at_rest_encryption_enabled", "false"],
      ["aws_dynamodb_table.sessions", "server_side_encryption[0].enabled", "(absent)"],
      ["aws_efs_file_system.shared", "encrypted", "false"],
    ]);
  });

  it("refuses storage_encrypted known only after apply", () => {
    const plan = loadPlan("prod-compliant");
    const db = rc(plan, "aws_db_instance.db").change;
    delete db.after.storage_encrypted;
    db.after_unknown.storage_encrypted = true;
    expect(findings(plan, prod, {}, ID)).toEqual([expect.objectContaining({ attribute: "storage_encrypted", found: "(known after apply)" })]);
  });

  it("refuses a standalone redis aws_elasticache_cluster (provider 5.x cannot encrypt it at rest)", () => {
    const plan = loadPlan("prod-compliant");
    addResource(plan, "aws_elasticache_cluster", "single", { engine: "redis", replication_group_id: null, tags_all: { environment: "prod" } });
    expect(findings(plan, prod, {}, ID)).toEqual([expect.objectContaining({ address: "aws_elasticache_cluster.single", attribute: "engine" })]);
  });

  it("accepts a cluster that is a member of a replication group, and memcached", () => {
    const plan = loadPlan("prod-compliant");
    addResource(plan, "aws_elasticache_cluster", "member", { engine: "redis", replication_group_id: "prod-cache", tags_all: { environment: "prod" } });
    addResource(plan, "aws_elasticache_cluster", "memcached", { engine: "memcached", replication_group_id: null, tags_all: { environment: "prod" } });
    expect(findings(plan, prod, {}, ID)).toEqual([]);
  });

  it("accepts an existing bucket whose known inline encryption or known name links it to its configuration", () => {
    const plan = loadPlan("prod-compliant");
    addResource(plan, "aws_s3_bucket", "assets", {
      bucket: "prod-assets",
      server_side_encryption_configuration: [{ rule: [{ apply_server_side_encryption_by_default: [{ sse_algorithm: "AES256" }] }] }],
      tags_all: { environment: "prod" },
    }, { actions: ["no-op"] });
    addResource(plan, "aws_s3_bucket", "media", { bucket: "prod-media", tags_all: { environment: "prod" } }, { unknown: { server_side_encryption_configuration: true } });
    addResource(plan, "aws_s3_bucket_server_side_encryption_configuration", "media", { bucket: "prod-media", rule: [] });
    expect(findings(plan, prod, {}, ID)).toEqual([]);
  });
});

describe("POLICY-DB-DELETION-PROTECTION: databases are deletion-protected where the env config says so", () => {
  const ID = "POLICY-DB-DELETION-PROTECTION";

  it("refuses a plan that turns deletion protection off in prod", () => {
    const plan = loadPlan("prod-compliant");
    const db = rc(plan, "aws_db_instance.db").change;
    db.actions = ["update"];
    db.before = { ...db.after };
    db.after.deletion_protection = false;
    expect(findings(plan, prod, {}, ID)).toEqual([
      expect.objectContaining({ address: "aws_db_instance.db", attribute: "deletion_protection", found: "false", expected: expect.stringContaining("envs/prod") }),
    ]);
  });

  it("refuses an aurora cluster without deletion protection in prod", () => {
    const plan = loadPlan("prod-compliant");
    addResource(plan, "aws_rds_cluster", "aurora", { storage_encrypted: true, deletion_protection: null, tags_all: { environment: "prod" } });
    expect(findings(plan, prod, {}, ID).map((x) => x.address)).toEqual(["aws_rds_cluster.aurora"]);
  });

  it("accepts deletion protection off where the env config does not ask for it (dev)", () => {
    const plan = loadPlan("prod-compliant");
    rc(plan, "aws_db_instance.db").change.after.deletion_protection = false;
    expect(findings(plan, dev, {}, ID)).toEqual([]);
  });

  it("accepts the compliant prod plan", () => {
    expect(findings(loadPlan("prod-compliant"), prod, {}, ID)).toEqual([]);
  });
});

describe("POLICY-INSTANCE-TYPE: instance types are among the env's app.allowedInstanceTypes", () => {
  const ID = "POLICY-INSTANCE-TYPE";

  it("refuses a prod-sized launch template in dev", () => {
    expect(findings(loadPlan("prod-compliant"), dev, {}, ID)).toEqual([
      expect.objectContaining({ address: "aws_launch_template.app", attribute: "instance_type", found: '"m6i.large"', expected: expect.stringContaining("t3.micro, t3.small") }),
    ]);
  });

  it("refuses an aws_instance and an autoscaling override outside the list", () => {
    const plan = loadPlan("prod-compliant");
    addResource(plan, "aws_instance", "bastion", { instance_type: "t3.nano", tags_all: { environment: "prod" } });
    rc(plan, "aws_autoscaling_group.app").change.after.mixed_instances_policy = [
      { launch_template: [{ override: [{ instance_type: "m6i.xlarge" }, { instance_type: "c7g.large" }] }] },
    ];
    expect(findings(plan, prod, {}, ID).map((x) => [x.address, x.attribute])).toEqual([
      ["aws_autoscaling_group.app", "mixed_instances_policy[0].launch_template[0].override[1].instance_type"],
      ["aws_instance.bastion", "instance_type"],
    ]);
  });

  it("refuses an instance type known only after apply", () => {
    const plan = loadPlan("prod-compliant");
    const lt = rc(plan, "aws_launch_template.app").change;
    delete lt.after.instance_type;
    lt.after_unknown.instance_type = true;
    expect(findings(plan, prod, {}, ID)).toEqual([expect.objectContaining({ found: "(known after apply)" })]);
  });

  it("accepts the types of the env's list", () => {
    expect(findings(loadPlan("prod-compliant"), prod, {}, ID)).toEqual([]);
  });
});

describe("POLICY-PLAINTEXT-SECRET: no secret value in plain text", () => {
  const ID = "POLICY-PLAINTEXT-SECRET";

  it("refuses a literal password in the configuration, without printing it", () => {
    const f = findings(loadPlan("open-ssh"), prod, {}, ID);
    expect(f).toEqual([expect.objectContaining({ address: "aws_db_instance.db", attribute: "configuration: password" })]);
    expect(JSON.stringify(f)).not.toContain("hunter2");
  });

  it("refuses a literal secret_string even though the provider marks it sensitive", () => {
    const plan = loadPlan("prod-compliant");
    cfg(plan, "aws_secretsmanager_secret_version.jwt_secret").expressions.secret_string = { constant_value: "s3cr3t-value-in-code" };
    expect(findings(plan, prod, {}, ID)).toEqual([expect.objectContaining({ attribute: "configuration: secret_string" })]);
  });

  it("accepts an interpolation as terraform shows a JSON configuration: the template as constant_value beside its references (in an env without the write-only gate)", () => {
    // The shape of `terraform show -json` for cdktf's cdk.tf.json (seen on the real dev plan).
    const plan = loadPlan("prod-compliant");
    cfg(plan, "aws_secretsmanager_secret_version.jwt_secret").expressions.secret_string = {
      constant_value: "${random_password.jwt.result}",
      references: ["random_password.jwt.result", "random_password.jwt"],
    };
    expect(dev.requireWriteOnlySecrets).toBe(false);
    expect(findings(plan, dev, {}, ID)).toEqual([]);
  });

  it("refuses a non-sensitive secret-looking value (lambda environment variable API_KEY)", () => {
    const plan = loadPlan("prod-compliant");
    addResource(plan, "aws_lambda_function", "worker", {
      function_name: "prod-worker",
      environment: [{ variables: { API_KEY: "abcd1234abcd1234", LOG_LEVEL: "warn", API_KEY_SECRET_ARN: "arn:aws:secretsmanager:x" } }],
      tags_all: { environment: "prod" },
    });
    const f = findings(plan, prod, {}, ID);
    expect(f).toEqual([expect.objectContaining({ address: "aws_lambda_function.worker", attribute: "environment[0].variables.API_KEY" })]);
    expect(JSON.stringify(f)).not.toContain("abcd1234");
  });

  it("accepts a WAFv2 resource's lock_token (AWS's optimistic-locking token, known in every plan after the first apply), and still refuses a secret-looking value beside it", () => {
    // The shape of prod's no-change re-plan (seen on the emulator): the web ACL's state carries its lock_token.
    const plan = loadPlan("prod-compliant");
    addResource(
      plan,
      "aws_wafv2_web_acl",
      "edge_waf",
      { name: "prod-edge", scope: "CLOUDFRONT", lock_token: "0b0e8d8e-6f7a-4a0c-9a51-3c1f2b8e9d10", tags_all: { environment: "prod" } },
      { actions: ["no-op"], before: { name: "prod-edge", scope: "CLOUDFRONT", lock_token: "0b0e8d8e-6f7a-4a0c-9a51-3c1f2b8e9d10", tags_all: { environment: "prod" } } },
    );
    expect(findings(plan, prod, {}, ID)).toEqual([]);
    rc(plan, "aws_wafv2_web_acl.edge_waf").change.after.auth_token = "a-literal-token-1234";
    expect(findings(plan, prod, {}, ID).map((f) => [f.address, f.attribute])).toEqual([["aws_wafv2_web_acl.edge_waf", "auth_token"]]);
  });

  it("refuses a plain String SSM parameter named like a secret", () => {
    const plan = loadPlan("prod-compliant");
    addResource(plan, "aws_ssm_parameter", "db_password", { name: "/prod/app/DB_PASSWORD", type: "String", tags_all: { environment: "prod" } }, { unknown: { value: true }, sensitive: { value: true } });
    expect(findings(plan, prod, {}, ID)).toEqual([expect.objectContaining({ address: "aws_ssm_parameter.db_password", attribute: "type", found: '"String"' })]);
  });

  it("accepts generated, referenced and sensitive secrets, and metadata about secrets (ARNs, ids, lengths) (in an env without the write-only gate)", () => {
    const plan = loadPlan("prod-compliant");
    addResource(plan, "aws_ssm_parameter", "jwt", { name: "/prod/app/JWT_SECRET", type: "SecureString", tags_all: { environment: "prod" } }, { unknown: { value: true }, sensitive: { value: true } });
    Object.assign(rc(plan, "aws_db_instance.db").change.after, { master_user_secret_kms_key_id: "alias/prod", password_length: "32" });
    expect(findings(plan, dev, {}, ID)).toEqual([]);
    // The metadata alone passes the gate too; the SecureString's value is persisted, so the gate names it.
    expect(findings(plan, prod, {}, ID).map((f) => [f.address, f.attribute])).toEqual([["aws_ssm_parameter.jwt", "value"]]);
  });
});

describe("POLICY-PLAINTEXT-SECRET, the write-only gate (requireWriteOnlySecrets: staging and prod)", () => {
  const ID = "POLICY-PLAINTEXT-SECRET";
  const staging = envConfig("staging");

  /** The pre-issue-14 shape: a random_password result referenced through the persisted argument. */
  function persistedSecretString(plan: ReturnType<typeof loadPlan>): void {
    const version = rc(plan, "aws_secretsmanager_secret_version.jwt_secret");
    version.change.after = { secret_string_wo: null, secret_string_wo_version: null };
    version.change.after_unknown = { secret_id: true, version_id: true, secret_string: true };
    cfg(plan, "aws_secretsmanager_secret_version.jwt_secret").expressions = {
      secret_id: { references: ["aws_secretsmanager_secret.jwt_secret.id", "aws_secretsmanager_secret.jwt_secret"] },
      secret_string: { references: ["random_password.jwt_secret.result", "random_password.jwt_secret"] },
    };
  }

  it("is asked for by staging's and prod's config, not by dev's", () => {
    expect([dev.requireWriteOnlySecrets, staging.requireWriteOnlySecrets, prod.requireWriteOnlySecrets]).toEqual([false, true, true]);
  });

  it("refuses a secret_string set from a random_password reference in prod and staging, naming the resource and secret_string_wo", () => {
    const plan = loadPlan("prod-compliant");
    persistedSecretString(plan);
    for (const env of [prod, staging]) {
      const f = findings(plan, env, {}, ID);
      expect(f).toEqual([
        expect.objectContaining({ level: "error", address: "aws_secretsmanager_secret_version.jwt_secret", attribute: "secret_string", found: "a value known after apply, to be persisted" }),
      ]);
      expect(f[0].expected).toContain("secret_string_wo + secret_string_wo_version");
    }
    expect(findings(plan, dev, {}, ID)).toEqual([]);
  });

  it("refuses a database password set through password (even sensitive and known), naming password_wo and manage_master_user_password, without the value", () => {
    const plan = loadPlan("prod-compliant");
    const db = rc(plan, "aws_db_instance.db");
    Object.assign(db.change.after, { manage_master_user_password: null, password: "Known-Sensitive-Value-123" });
    db.change.after_sensitive = { password: true };
    const f = findings(plan, prod, {}, ID);
    expect(f).toEqual([expect.objectContaining({ address: "aws_db_instance.db", attribute: "password", found: "a value (sensitive, still persisted)" })]);
    expect(f[0].expected).toMatch(/password_wo \+ password_wo_version.*manage_master_user_password/);
    expect(JSON.stringify(f)).not.toContain("Known-Sensitive-Value-123");
  });

  it("refuses a reference that only the configuration shows (planned value absent) and an RDS cluster's master_password", () => {
    const plan = loadPlan("prod-compliant");
    addResource(plan, "aws_rds_cluster", "aurora", { cluster_identifier: "prod-aurora", storage_encrypted: true, tags_all: { environment: "prod" } }, {
      expressions: { master_password: { references: ["random_password.db.result", "random_password.db"] } },
      sensitive: { master_password: true },
    });
    const f = findings(plan, prod, {}, ID);
    expect(f.map((x) => [x.address, x.attribute, x.found])).toEqual([["aws_rds_cluster.aurora", "master_password", "a reference, to be persisted"]]);
    expect(f[0].expected).toContain("master_password_wo");
  });

  it("accepts the write-only and AWS-managed shapes (the compliant plan), and a migration that clears the persisted argument", () => {
    expect(findings(loadPlan("prod-compliant"), prod, {}, ID)).toEqual([]);
    const plan = loadPlan("prod-compliant");
    const version = rc(plan, "aws_secretsmanager_secret_version.jwt_secret");
    version.change.actions = ["update"];
    version.change.before = { secret_string: "old-value-from-random-password", secret_string_wo_version: null };
    version.change.before_sensitive = { secret_string: true };
    expect(findings(plan, prod, {}, ID)).toEqual([]);
  });

  it("leaves a literal secret_string to the literal check: one finding, not two", () => {
    const plan = loadPlan("prod-compliant");
    cfg(plan, "aws_secretsmanager_secret_version.jwt_secret").expressions.secret_string = { constant_value: "s3cr3t-value-in-code" };
    expect(findings(plan, prod, {}, ID).map((x) => x.attribute)).toEqual(["configuration: secret_string"]);
  });
});
