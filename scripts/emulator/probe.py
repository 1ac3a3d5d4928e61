"""Small boto3 scenarios against a running emulator, printed as one JSON object (used by the tests).

    .local/venv/bin/python scripts/emulator/probe.py <endpoint> <scenario> [--account 111111111111]

Scenarios: elasticache, budgets, and one per read-back patch: scaling-policy, cloudfront-cache-policy,
db-parameters, sg-rule-description, managed-password.

Each scenario assumes arn:aws:iam::<account>:role/terraform-deploy first, like the stacks do, so the
calls land in that account. Uses the venv's boto3 (the Node SDK clients for ElastiCache, Budgets,
Auto Scaling, CloudFront and RDS are not installed in this project).
"""
from __future__ import annotations

import argparse
import json
import sys
import uuid

import boto3


def session(endpoint: str, account: str) -> boto3.session.Session:
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/terraform-deploy",
                            RoleSessionName="probe")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                 aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name="us-east-1")


def elasticache(s: boto3.session.Session, endpoint: str) -> dict:
    ec = s.client("elasticache", endpoint_url=endpoint)
    ec2 = s.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="probe-" + uuid.uuid4().hex[:6], Description="probe", VpcId=vpc)["GroupId"]
    rg_id = "probe-" + uuid.uuid4().hex[:6]
    ec.create_cache_subnet_group(CacheSubnetGroupName=rg_id, CacheSubnetGroupDescription="probe", SubnetIds=[subnet])
    rg = ec.create_replication_group(ReplicationGroupId=rg_id, ReplicationGroupDescription="probe",
                                     Engine="redis", CacheNodeType="cache.t3.micro", NumCacheClusters=3,
                                     AutomaticFailoverEnabled=True, CacheSubnetGroupName=rg_id,
                                     SecurityGroupIds=[sg])["ReplicationGroup"]
    try:
        ec.delete_cache_subnet_group(CacheSubnetGroupName=rg_id)
        in_use = "deleted while in use"
    except ec.exceptions.ClientError as e:
        in_use = e.response["Error"]["Code"]
    members = rg["MemberClusters"]
    described = [ec.describe_cache_clusters(CacheClusterId=m)["CacheClusters"][0] for m in members]
    ec.delete_replication_group(ReplicationGroupId=rg_id)
    after = {c["CacheClusterId"] for c in ec.describe_cache_clusters()["CacheClusters"]}
    groups_after = [g["ReplicationGroupId"] for g in ec.describe_replication_groups()["ReplicationGroups"]]
    ec.delete_cache_subnet_group(CacheSubnetGroupName=rg_id)
    try:
        ec.describe_cache_subnet_groups(CacheSubnetGroupName=rg_id)
        subnet_group_after = "still there"
    except ec.exceptions.CacheSubnetGroupNotFoundFault:
        subnet_group_after = "CacheSubnetGroupNotFoundFault"
    return {
        "memberClusters": members,
        "described": [{"id": c["CacheClusterId"], "status": c["CacheClusterStatus"],
                       "replicationGroupId": c.get("ReplicationGroupId"),
                       "securityGroups": [g["SecurityGroupId"] for g in c.get("SecurityGroups", [])],
                       "sgExpected": [sg]} for c in described],
        "membersLeftAfterDelete": sorted(set(members) & after),
        "groupLeftAfterDelete": rg_id in groups_after,
        "subnetGroupDeleteWhileInUse": in_use,
        "subnetGroupAfterDelete": subnet_group_after,
    }


def budgets(s: boto3.session.Session, endpoint: str, account: str) -> dict:
    b = s.client("budgets", endpoint_url=endpoint)
    name = "probe-" + uuid.uuid4().hex[:6]
    arn = f"arn:aws:budgets::{account}:budget/{name}"
    b.create_budget(AccountId=account,
                    Budget={"BudgetName": name, "BudgetType": "COST", "TimeUnit": "MONTHLY",
                            "BudgetLimit": {"Amount": "100", "Unit": "USD"}},
                    ResourceTags=[{"Key": "Project", "Value": "probe"}])
    created = b.list_tags_for_resource(ResourceARN=arn)["ResourceTags"]
    b.tag_resource(ResourceARN=arn, ResourceTags=[{"Key": "Env", "Value": "dev"}, {"Key": "Tmp", "Value": "x"}])
    tagged = b.list_tags_for_resource(ResourceARN=arn)["ResourceTags"]
    b.untag_resource(ResourceARN=arn, ResourceTagKeys=["Tmp"])
    untagged = b.list_tags_for_resource(ResourceARN=arn)["ResourceTags"]
    b.delete_budget(AccountId=account, BudgetName=name)
    try:
        b.list_tags_for_resource(ResourceARN=arn)
        after_delete = "no error"
    except b.exceptions.NotFoundException:
        after_delete = "NotFoundException"
    norm = lambda tags: sorted(f"{t['Key']}={t['Value']}" for t in tags)  # noqa: E731
    return {"created": norm(created), "tagged": norm(tagged), "untagged": norm(untagged),
            "afterDelete": after_delete}


def scaling_policy(s: boto3.session.Session, endpoint: str) -> dict:
    """What DescribePolicies returns for a target tracking policy sent without ``Enabled``, and after
    ``Enabled = false``."""
    asg = s.client("autoscaling", endpoint_url=endpoint)
    ec2 = s.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.98.1.0/24")["Subnet"]["SubnetId"]
    name = "probe-" + uuid.uuid4().hex[:6]
    ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=1, DesiredCapacity=0,
                                  LaunchTemplate={"LaunchTemplateName": name}, VPCZoneIdentifier=subnet)
    tt = {"PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 50.0}
    asg.put_scaling_policy(AutoScalingGroupName=name, PolicyName=name, PolicyType="TargetTrackingScaling",
                           TargetTrackingConfiguration=tt)
    default = asg.describe_policies(AutoScalingGroupName=name)["ScalingPolicies"][0]
    asg.put_scaling_policy(AutoScalingGroupName=name, PolicyName=name, PolicyType="TargetTrackingScaling",
                           TargetTrackingConfiguration=tt, Enabled=False)
    disabled = asg.describe_policies(AutoScalingGroupName=name)["ScalingPolicies"][0]
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    return {"enabled": default.get("Enabled"), "hasPredictive": "PredictiveScalingConfiguration" in default,
            "enabledAfterDisable": disabled.get("Enabled")}


def cloudfront_cache_policy(s: boto3.session.Session, endpoint: str) -> dict:
    """Whether a behavior with a cache policy (and one with legacy ForwardedValues) reads back with
    ForwardedValues."""
    cf = s.client("cloudfront", endpoint_url=endpoint)
    origin = {"Id": "o", "DomainName": "origin.example.com",
              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}
    legacy = {"PathPattern": "/static/*", "TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
              "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}}, "MinTTL": 0}
    dist = cf.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "probe", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"},
        "CacheBehaviors": {"Quantity": 1, "Items": [legacy]},
    })["Distribution"]
    cfg = cf.get_distribution_config(Id=dist["Id"])["DistributionConfig"]
    ordered = cfg["CacheBehaviors"]["Items"][0]
    return {"defaultHasForwardedValues": "ForwardedValues" in cfg["DefaultCacheBehavior"],
            "defaultCachePolicyId": cfg["DefaultCacheBehavior"].get("CachePolicyId"),
            "orderedQueryString": (ordered.get("ForwardedValues") or {}).get("QueryString")}


def db_parameters(s: boto3.session.Session, endpoint: str) -> dict:
    """Parameters set on a group, as DescribeDBParameters returns them (all, user, engine-default)."""
    rds = s.client("rds", endpoint_url=endpoint)
    name = "probe-" + uuid.uuid4().hex[:6]
    rds.create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily="postgres16", Description="probe")
    rds.modify_db_parameter_group(DBParameterGroupName=name, Parameters=[
        {"ParameterName": "log_connections", "ParameterValue": "1", "ApplyMethod": "immediate"},
        {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "pending-reboot"}])
    norm = lambda ps: sorted(f"{p['ParameterName']}={p['ParameterValue']}:{p.get('Source')}" for p in ps)  # noqa: E731
    out = {"all": norm(rds.describe_db_parameters(DBParameterGroupName=name)["Parameters"]),
           "user": norm(rds.describe_db_parameters(DBParameterGroupName=name, Source="user")["Parameters"]),
           "engineDefault": norm(rds.describe_db_parameters(DBParameterGroupName=name, Source="engine-default")["Parameters"])}
    rds.delete_db_parameter_group(DBParameterGroupName=name)
    return out


def sg_rule_description(s: boto3.session.Session, endpoint: str) -> dict:
    """Descriptions of a referenced-group rule and a CIDR rule as DescribeSecurityGroupRules returns
    them, before and after ModifySecurityGroupRules."""
    ec2 = s.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.97.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_security_group(GroupName="probe-a-" + uuid.uuid4().hex[:6], Description="a", VpcId=vpc)["GroupId"]
    b = ec2.create_security_group(GroupName="probe-b-" + uuid.uuid4().hex[:6], Description="b", VpcId=vpc)["GroupId"]
    ref = ec2.authorize_security_group_ingress(GroupId=a, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": b, "Description": "from b"}]}])["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    cidr = ec2.authorize_security_group_ingress(GroupId=a, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "from the net"}]}])["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    desc = lambda: {r["SecurityGroupRuleId"]: r.get("Description") for r in ec2.describe_security_group_rules(  # noqa: E731
        Filters=[{"Name": "group-id", "Values": [a]}])["SecurityGroupRules"]}
    before = desc()
    ec2.modify_security_group_rules(GroupId=a, SecurityGroupRules=[{"SecurityGroupRuleId": ref, "SecurityGroupRule": {
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "ReferencedGroupId": b, "Description": "from b, renamed"}}])
    after = desc()
    return {"referenced": before[ref], "cidr": before[cidr], "referencedAfterModify": after[ref]}


def managed_password(s: boto3.session.Session, endpoint: str) -> dict:
    """Two instances with AWS-managed master passwords: the user names and passwords in their secrets."""
    rds = s.client("rds", endpoint_url=endpoint)
    sm = s.client("secretsmanager", endpoint_url=endpoint)
    out = []
    for user in ("app", "owner"):
        ident = "probe-" + uuid.uuid4().hex[:6]
        db = rds.create_db_instance(DBInstanceIdentifier=ident, Engine="postgres", DBInstanceClass="db.t3.small",
                                    AllocatedStorage=20, MasterUsername=user, ManageMasterUserPassword=True)["DBInstance"]
        value = json.loads(sm.get_secret_value(SecretId=db["MasterUserSecret"]["SecretArn"])["SecretString"])
        out.append(value)
        rds.delete_db_instance(DBInstanceIdentifier=ident, SkipFinalSnapshot=True)
    return {"usernames": [v["username"] for v in out], "passwordLengths": [len(v["password"]) for v in out],
            "distinct": out[0]["password"] != out[1]["password"], "constant": any(v["password"] == "P@55w0rd!" for v in out)}


SCENARIOS = ["elasticache", "budgets", "scaling-policy", "cloudfront-cache-policy", "db-parameters", "sg-rule-description", "managed-password"]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("endpoint")
    p.add_argument("scenario", choices=SCENARIOS)
    p.add_argument("--account", default="111111111111")
    a = p.parse_args()
    s = session(a.endpoint, a.account)
    if a.scenario == "budgets":
        out = budgets(s, a.endpoint, a.account)
    else:
        out = {"elasticache": elasticache, "scaling-policy": scaling_policy,
               "cloudfront-cache-policy": cloudfront_cache_policy, "db-parameters": db_parameters,
               "sg-rule-description": sg_rule_description, "managed-password": managed_password}[a.scenario](s, a.endpoint)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
