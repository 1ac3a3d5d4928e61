"""ElastiCache replication groups get real member cache clusters (and deletes really delete).

What moto 5.2.5 gets wrong:
  * ``CreateReplicationGroup`` (cluster mode disabled) ignores ``NumCacheClusters``: it only honours
    ``ReplicasPerNodeGroup``, so ``num_cache_clusters = 3`` yields one member id (``<id>-001``).
  * The member ids are only recorded on the group (``MemberClusters``); no cache cluster exists, so
    ``DescribeCacheClusters --cache-cluster-id <id>-001`` answers ``CacheClusterNotFound``.
  * ``DeleteReplicationGroup`` / ``DeleteCacheCluster`` set the status to ``deleting`` and keep the
    object forever.

What the AWS provider 5.100.0 does with it:
  * ``aws_elasticache_replication_group`` create waits for the group, then reads the first member
    cluster (``DescribeCacheClusters``) for engine version / AZs: the 404 fails the apply (after ~30 s).
  * ``num_cache_clusters`` is read back as ``len(MemberClusters)``: 1 instead of 3 = perpetual diff.
  * destroy waits for the group (and ``aws_elasticache_cluster`` for the cluster) to disappear:
    ``deleting`` forever means destroy hangs until its 40 minute timeout.

What the patch does:
  * Cluster mode disabled with ``NumCacheClusters`` = N > 1 and no ``ReplicasPerNodeGroup``:
    creates N members (``<id>-001`` primary, ``-002``.. replicas), as AWS does.
  * After ``CreateReplicationGroup`` each member becomes a real ``CacheCluster`` (status
    ``available``, ``ReplicationGroupId`` set, engine/version/node type/port/subnet group/security
    groups/encryption copied from the group, AZ from the node group member).
  * Cache clusters answer ``SecurityGroups`` (``[{SecurityGroupId, Status: active}]``) from the
    security group ids they were created with (moto keeps the ids but never renders them, so the
    provider reads ``security_group_ids = []`` for a group and plans to add them on every run).
  * ``DeleteReplicationGroup`` removes the group and its member clusters (the primary stays when
    ``RetainPrimaryCluster`` is true, detached from the group); ``DeleteCacheCluster`` removes the
    cluster. Both still return the object with status ``deleting``, like AWS.
  * Implements ``DeleteCacheSubnetGroup`` (moto answers 500 ``NotImplemented``, which the provider
    retries until its 5 minute delete timeout): removes the group, ``CacheSubnetGroupNotFoundFault``
    when unknown, ``CacheSubnetGroupInUse`` while a cluster or replication group still uses it.
"""
from __future__ import annotations

from typing import Any


def apply() -> None:
    from moto.elasticache import models as m

    RG = m.ReplicationGroup

    def security_groups(self):  # noqa: ANN001, ANN202
        return [{"SecurityGroupId": sg, "Status": "active"} for sg in (self.security_group_ids or [])]

    m.CacheCluster.security_groups = property(security_groups)
    Backend = m.ElastiCacheBackend

    orig_set_disabled = RG._set_node_members_clusters_disabled

    def _set_node_members_clusters_disabled(self, member_clusters, replication_group_id,
                                            replication_group_domain, node_group,
                                            preferred_cache_cluster_azs, num_cache_clusters,
                                            replicas_per_node_group):  # noqa: ANN001
        if not replicas_per_node_group and num_cache_clusters and int(num_cache_clusters) > 1:
            replicas_per_node_group = int(num_cache_clusters) - 1
        return orig_set_disabled(self, member_clusters, replication_group_id,
                                 replication_group_domain, node_group,
                                 preferred_cache_cluster_azs, num_cache_clusters,
                                 replicas_per_node_group)

    RG._set_node_members_clusters_disabled = _set_node_members_clusters_disabled

    orig_create_rg = Backend.create_replication_group

    def _member_azs(group: Any) -> dict[str, str]:
        azs: dict[str, str] = {}
        for ng in getattr(group, "node_groups", []) or []:
            for member in ng.get("node_group_members", []):
                azs[member["cache_cluster_id"]] = member.get("preferred_availability_zone", "us-east-1a")
        return azs

    def create_replication_group(self, *args: Any, **kwargs: Any):  # noqa: ANN202
        group = orig_create_rg(self, *args, **kwargs)
        azs = _member_azs(group)
        for cluster_id in list(group.member_clusters):
            if cluster_id in self.cache_clusters:
                continue
            cluster = m.CacheCluster(
                account_id=self.account_id,
                region_name=self.region_name,
                cache_cluster_id=cluster_id,
                cache_node_type=kwargs.get("cache_node_type") or getattr(group, "cache_node_type", None),
                replication_group_id=group.replication_group_id,
                az_mode="single-az",
                preferred_availability_zone=azs.get(cluster_id, "us-east-1a"),
                num_cache_nodes=1,
                engine=kwargs.get("engine") or "redis",
                engine_version=kwargs.get("engine_version"),
                cache_parameter_group_name=kwargs.get("cache_parameter_group_name"),
                cache_subnet_group_name=kwargs.get("cache_subnet_group_name"),
                transit_encryption_enabled=kwargs.get("transit_encryption_enabled"),
                network_type=kwargs.get("network_type"),
                ip_discovery=kwargs.get("ip_discovery"),
                snapshot_name=None,
                preferred_maintenance_window=kwargs.get("preferred_maintenance_window"),
                port=kwargs.get("port") or group.port,
                notification_topic_arn=kwargs.get("notification_topic_arn"),
                auto_minor_version_upgrade=kwargs.get("auto_minor_version_upgrade"),
                snapshot_retention_limit=kwargs.get("snapshot_retention_limit"),
                snapshot_window=kwargs.get("snapshot_window"),
                auth_token=kwargs.get("auth_token"),
                outpost_mode=None,
                preferred_outpost_arn=None,
                preferred_availability_zones=None,
                cache_security_group_names=kwargs.get("cache_security_group_names"),
                security_group_ids=kwargs.get("security_group_ids"),
                tags=None,
                snapshot_arns=None,
                preferred_outpost_arns=None,
                log_delivery_configurations=[],
                cache_node_ids_to_remove=None,
                cache_node_ids_to_reboot=None,
            )
            cluster.replication_group_id = group.replication_group_id  # also for non-"redis" spellings
            cluster.at_rest_encryption_enabled = kwargs.get("at_rest_encryption_enabled")
            self.cache_clusters[cluster_id] = cluster
        return group

    Backend.create_replication_group = create_replication_group

    orig_delete_rg = Backend.delete_replication_group

    def delete_replication_group(self, replication_group_id: str, retain_primary_cluster: bool | None):  # noqa: ANN202
        members = []
        if replication_group_id in self.replication_groups:
            members = list(self.replication_groups[replication_group_id].member_clusters)
            primary = members[0] if members else None
        group = orig_delete_rg(self, replication_group_id, retain_primary_cluster)
        for cluster_id in members:
            if retain_primary_cluster and cluster_id == primary:
                if cluster_id in self.cache_clusters:
                    self.cache_clusters[cluster_id].replication_group_id = None
                continue
            self.cache_clusters.pop(cluster_id, None)
        self.replication_groups.pop(replication_group_id, None)
        return group

    Backend.delete_replication_group = delete_replication_group

    orig_delete_cc = Backend.delete_cache_cluster

    def delete_cache_cluster(self, cache_cluster_id: str):  # noqa: ANN202
        cluster = orig_delete_cc(self, cache_cluster_id)
        self.cache_clusters.pop(cache_cluster_id, None)
        return cluster

    Backend.delete_cache_cluster = delete_cache_cluster

    from moto.elasticache.exceptions import CacheSubnetGroupNotFound, ElastiCacheException
    from moto.elasticache.responses import ElastiCacheResponse
    from moto.core.responses import EmptyResult

    class CacheSubnetGroupInUse(ElastiCacheException):
        code = "CacheSubnetGroupInUse"

        def __init__(self, name: str):
            super().__init__(f"Cache subnet group {name} is currently in use by a cache cluster.")

    def delete_cache_subnet_group(self, cache_subnet_group_name: str) -> None:
        if cache_subnet_group_name not in self.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(cache_subnet_group_name)
        users = [c for c in self.cache_clusters.values() if c.cache_subnet_group_name == cache_subnet_group_name]
        users += [g for g in self.replication_groups.values()
                  if getattr(g, "cache_subnet_group_name", None) == cache_subnet_group_name]
        if users:
            raise CacheSubnetGroupInUse(cache_subnet_group_name)
        self.cache_subnet_groups.pop(cache_subnet_group_name)

    Backend.delete_cache_subnet_group = delete_cache_subnet_group

    def delete_cache_subnet_group_response(self):  # noqa: ANN001, ANN202
        self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
        return EmptyResult()

    ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group_response
