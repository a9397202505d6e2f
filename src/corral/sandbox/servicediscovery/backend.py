"""Cloud Map state for one account and Region, and the contract ECS uses.

ECS registers each task of a service with `serviceRegistries` when it enters RUNNING
(`register_instance`) and removes it when it stops (`deregister_instance`); those calls skip
the API's attribute checks and create no operation, as ECS's own registrations are not
visible in ListOperations.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..core.world import Backend as _Base
from . import ids
from .exceptions import (
    CustomHealthNotFound,
    InstanceNotFound,
    InvalidInput,
    NamespaceAlreadyExists,
    NamespaceNotFound,
    OperationNotFound,
    ResourceInUse,
    ResourceNotFoundException,
    ServiceAlreadyExists,
    ServiceNotFound,
)
from .instances import HEALTHY, UNHEALTHY, Instance, initial_custom_health, select
from .namespaces import Namespace, matches
from .operations import Operation
from .services import (
    DnsConfig,
    Service,
    check_health_settings,
    required_attributes,
    service_matches,
    service_type,
)

log = logging.getLogger(__name__)


class Backend(_Base):
    service = "servicediscovery"

    def __init__(self, region: Any) -> None:
        super().__init__(region)
        self.namespaces: dict[str, Namespace] = {}
        self.services: dict[str, Service] = {}
        self.operations: dict[str, Operation] = {}
        self.tags: dict[str, dict[str, str]] = {}  # resource ARN -> tags

    # ------------------------------------------------------------------ operations

    def _operation(self, kind: str, **targets: str) -> Operation:
        operation = Operation(id=ids.operation_id(), type=kind, created=self.now(), targets=targets)
        self.operations[operation.id] = operation
        return operation

    def get_operation(self, operation_id: str) -> Operation:
        found = self.operations.get(operation_id)
        if found is None:
            raise OperationNotFound(f"Operation {operation_id} not found.")
        return found

    # ------------------------------------------------------------------ namespaces

    def create_namespace(
        self,
        name: str,
        kind: str,
        *,
        vpc: str | None = None,
        description: str | None = None,
        soa_ttl: int | None = None,
        creator_request_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Operation:
        namespace_id = ids.namespace_id()
        namespace = Namespace(
            id=namespace_id,
            arn=self.arn("servicediscovery", f"namespace/{namespace_id}"),
            name=name.rstrip(".") or name,
            type=kind,
            created=self.now(),
            description=description,
            vpc=vpc,
            soa_ttl=soa_ttl,
            hosted_zone_id=ids.hosted_zone_id() if kind != "HTTP" else None,
            creator_request_id=creator_request_id,
        )
        for other in self.namespaces.values():
            if other.conflicts_with(namespace):
                if creator_request_id and other.creator_request_id == creator_request_id:
                    return self._operation("CREATE_NAMESPACE", NAMESPACE=other.id)
                raise NamespaceAlreadyExists(f"Namespace with name {name} already exists.")
        self.namespaces[namespace_id] = namespace
        self.tags[namespace.arn] = dict(tags or {})
        return self._operation("CREATE_NAMESPACE", NAMESPACE=namespace_id)

    def get_namespace(self, namespace_id: str) -> Namespace:
        found = self.namespaces.get(namespace_id)
        if found is None:
            raise NamespaceNotFound(f"Namespace {namespace_id} not found.")
        return found

    def namespace_by_name(self, name: str) -> Namespace:
        wanted_name = name.rstrip(".").lower()
        for namespace in self.namespaces.values():
            if namespace.name.lower() == wanted_name:
                return namespace
        raise NamespaceNotFound(f"Namespace {name} not found.")

    def list_namespaces(self, filters: Sequence[dict[str, Any]]) -> list[Namespace]:
        return [ns for ns in self.namespaces.values() if matches(ns, filters)]

    def service_count(self, namespace_id: str) -> int:
        return sum(1 for service in self.services.values() if service.namespace_id == namespace_id)

    def delete_namespace(self, namespace_id: str) -> Operation:
        namespace = self.get_namespace(namespace_id)
        if self.service_count(namespace_id):
            raise ResourceInUse(f"Namespace {namespace_id} has associated services, delete them first.")
        del self.namespaces[namespace_id]
        self.tags.pop(namespace.arn, None)
        return self._operation("DELETE_NAMESPACE", NAMESPACE=namespace_id)

    # ------------------------------------------------------------------ services

    def create_service(
        self,
        name: str,
        namespace_id: str,
        *,
        dns_config: DnsConfig | None = None,
        requested_type: str | None = None,
        description: str | None = None,
        health_check_config: dict[str, Any] | None = None,
        health_check_custom_config: dict[str, Any] | None = None,
        creator_request_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Service:
        namespace = self.get_namespace(namespace_id)
        kind = service_type(namespace, dns_config, requested_type)
        check_health_settings(namespace, health_check_config, health_check_custom_config)
        for other in self.services.values():
            if other.namespace_id == namespace_id and other.name.lower() == name.lower():
                raise ServiceAlreadyExists(f"Service {name} already exists in namespace {namespace_id}.")
        service_id = ids.service_id()
        service = Service(
            id=service_id,
            arn=self.arn("servicediscovery", f"service/{service_id}"),
            name=name,
            namespace_id=namespace_id,
            created=self.now(),
            type=kind,
            description=description,
            dns_config=dns_config,
            health_check_config=health_check_config,
            health_check_custom_config=health_check_custom_config,
            creator_request_id=creator_request_id,
        )
        self.services[service_id] = service
        self.tags[service.arn] = dict(tags or {})
        return service

    def get_service(self, service_id: str) -> Service:
        found = self.services.get(service_id)
        if found is None:
            raise ServiceNotFound(f"Service {service_id} not found.")
        return found

    def service_by_arn(self, arn: str) -> Service:
        """Contract for ECS: the service a `serviceRegistries[].registryArn` names."""
        for service in self.services.values():
            if service.arn == arn:
                return service
        raise ServiceNotFound(f"Service {arn} not found.")

    def list_services(self, filters: Sequence[dict[str, Any]]) -> list[Service]:
        return [service for service in self.services.values() if service_matches(service, filters)]

    def update_service(
        self,
        service_id: str,
        *,
        description: str | None = None,
        dns_records: dict[str, Any] | None = None,
        health_check_config: dict[str, Any] | None = None,
    ) -> Operation:
        service = self.get_service(service_id)
        if dns_records is not None:
            if service.dns_config is None:
                raise InvalidInput(f"Service {service_id} has no DnsConfig to update.")
            updated = DnsConfig.from_api(dns_records, routing_policy=service.dns_config.routing_policy)
            if updated.record_types != service.dns_config.record_types:
                raise InvalidInput("UpdateService can change the TTL of DNS records, not their types.")
            service.dns_config = updated
        if health_check_config is not None:
            if service.health_check_custom_config is not None:
                raise InvalidInput(
                    "HealthCheckConfig cannot be added to a service with HealthCheckCustomConfig."
                )
            check_health_settings(self.get_namespace(service.namespace_id), health_check_config, None)
            service.health_check_config = health_check_config
        if description is not None:
            service.description = description
        return self._operation("UPDATE_SERVICE", SERVICE=service_id)

    def delete_service(self, service_id: str) -> None:
        service = self.get_service(service_id)
        if service.instances:
            raise ResourceInUse(f"Service {service_id} has registered instances, deregister them first.")
        del self.services[service_id]
        self.tags.pop(service.arn, None)

    # ------------------------------------------------------------------ instances

    def register_instance(self, service_arn: str, instance_id: str, attributes: dict[str, str]) -> None:
        """Contract for ECS: register (or update) a task. Unknown services are skipped, logged."""
        try:
            service = self.service_by_arn(service_arn)
        except ServiceNotFound:
            log.warning("Cloud Map service %s is gone; task %s not registered", service_arn, instance_id)
            return
        self._put_instance(service, instance_id, attributes, None)

    def deregister_instance(self, service_arn: str, instance_id: str) -> None:
        """Contract for ECS: remove a task; a no-op when it (or its service) is already gone."""
        for service in self.services.values():
            if service.arn == service_arn and service.instances.pop(instance_id, None) is not None:
                service.revision += 1

    def put_instance(
        self, service_id: str, instance_id: str, attributes: dict[str, str], creator_request_id: str | None
    ) -> Operation:
        """RegisterInstance: checks the attributes the service's DNS records need."""
        service = self.get_service(service_id)
        required_attributes(service, attributes)
        self._put_instance(service, instance_id, attributes, creator_request_id)
        return self._operation("REGISTER_INSTANCE", SERVICE=service_id, INSTANCE=instance_id)

    def _put_instance(
        self, service: Service, instance_id: str, attributes: dict[str, str], creator_request_id: str | None
    ) -> None:
        existing = service.instances.get(instance_id)
        custom = None
        if service.has_custom_health:
            custom = existing.custom_health if existing else initial_custom_health(attributes)
        service.instances[instance_id] = Instance(
            id=instance_id,
            attributes=dict(attributes),
            registered=existing.registered if existing else self.now(),
            creator_request_id=creator_request_id,
            custom_health=custom,
        )
        service.revision += 1

    def remove_instance(self, service_id: str, instance_id: str) -> Operation:
        """DeregisterInstance."""
        service = self.get_service(service_id)
        self.get_instance(service, instance_id)
        del service.instances[instance_id]
        service.revision += 1
        return self._operation("DEREGISTER_INSTANCE", SERVICE=service_id, INSTANCE=instance_id)

    def get_instance(self, service: Service, instance_id: str) -> Instance:
        found = service.instances.get(instance_id)
        if found is None:
            raise InstanceNotFound(f"Instance {instance_id} not found in service {service.id}.")
        return found

    def set_custom_health(self, service_id: str, instance_id: str, status: str) -> None:
        service = self.get_service(service_id)
        instance = self.get_instance(service, instance_id)
        if not service.has_custom_health:
            raise CustomHealthNotFound(
                f"Service {service_id} does not have a custom health check configured."
            )
        if status not in (HEALTHY, UNHEALTHY):
            raise InvalidInput("Status must be HEALTHY or UNHEALTHY.")
        if instance.custom_health != status:
            instance.custom_health = status
            service.revision += 1

    def discover(
        self,
        namespace_name: str,
        service_name: str,
        *,
        health_status: str = "HEALTHY",
        query: dict[str, str] | None = None,
        optional: dict[str, str] | None = None,
    ) -> tuple[Namespace, Service, list[Instance]]:
        namespace = self.namespace_by_name(namespace_name)
        service = next(
            (
                s
                for s in self.services.values()
                if s.namespace_id == namespace.id and s.name.lower() == service_name.lower()
            ),
            None,
        )
        if service is None:
            raise ServiceNotFound(f"Service {service_name} not found in namespace {namespace_name}.")
        chosen = select(
            list(service.instances.values()), service.health_of, health_status, query or {}, optional or {}
        )
        return namespace, service, chosen

    # ------------------------------------------------------------------ tags

    def _tagged(self, arn: str) -> dict[str, str]:
        found = self.tags.get(arn)
        if found is None:
            raise ResourceNotFoundException(f"Resource {arn} not found.")
        return found

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        self._tagged(arn).update(tags)

    def untag(self, arn: str, keys: Sequence[str]) -> None:
        current = self._tagged(arn)
        for key in keys:
            current.pop(key, None)

    def tags_of(self, arn: str) -> dict[str, str]:
        return dict(self._tagged(arn))
