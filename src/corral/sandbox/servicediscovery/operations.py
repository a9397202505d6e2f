"""Cloud Map's asynchronous operations. The sandbox finishes each one at once (status SUCCESS)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.clock import to_datetime


@dataclass
class Operation:
    id: str
    type: str  # CREATE_NAMESPACE, DELETE_NAMESPACE, UPDATE_SERVICE, REGISTER_INSTANCE, ...
    created: float
    targets: dict[str, str] = field(default_factory=dict)  # NAMESPACE / SERVICE / INSTANCE -> id
    status: str = "SUCCESS"

    def to_api(self, account_id: str) -> dict[str, Any]:
        return {
            "Id": self.id,
            "OwnerAccount": account_id,
            "Type": self.type,
            "Status": self.status,
            "CreateDate": to_datetime(self.created),
            "UpdateDate": to_datetime(self.created),
            "Targets": dict(self.targets),
        }

    def summary(self) -> dict[str, Any]:
        return {"Id": self.id, "Status": self.status}
