"""Small boto3 scenarios against a running emulator, printed as one JSON object (used by the tests).

    .local/venv/bin/python scripts/emulator/probe.py <endpoint> elasticache|budgets [--account 111111111111]

Each scenario assumes arn:aws:iam::<account>:role/terraform-deploy first, like the stacks do, so the
calls land in that account. Uses the venv's boto3 (the Node SDK clients for ElastiCache and Budgets are
not installed in this project).
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


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("endpoint")
    p.add_argument("scenario", choices=["elasticache", "budgets"])
    p.add_argument("--account", default="111111111111")
    a = p.parse_args()
    s = session(a.endpoint, a.account)
    out = elasticache(s, a.endpoint) if a.scenario == "elasticache" else budgets(s, a.endpoint, a.account)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
