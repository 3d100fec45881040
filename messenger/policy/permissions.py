"""Per-user invite permissions in the TI-Messenger schema (permissionConfig_V1), sans I/O.

Stored by any client as global account data: insured persons under the ePA type, practices under
the Pro type (which adds the group exception for insured persons). `allow all` plus an exception
blocks that party; `block all` plus an exception allows it. Only received invites are checked.
A malformed setting is treated as absent (allow all) and reported by `parse`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EPA_TYPE = "de.gematik.tim.account.permissionconfig.epa.v1"
PRO_TYPE = "de.gematik.tim.account.permissionconfig.pro.v1"
PERMISSION_TYPES = (EPA_TYPE, PRO_TYPE)
ALLOW_ALL = "allow all"
BLOCK_ALL = "block all"
INSURED_GROUP = "isInsuredPerson"
_GROUP_SHAPE = 'groupExceptions must be a list like [{"groupName": "isInsuredPerson"}]'


class PermissionConfigError(ValueError):
    """The stored setting does not follow the schema; the message says which field and why."""


@dataclass(frozen=True)
class PermissionConfig:
    default_allow: bool
    users: frozenset[str] = frozenset()
    servers: frozenset[str] = frozenset()
    insured_group: bool = False

    def allows(self, inviter: str, *, inviter_is_insured: bool) -> bool:
        server = inviter.split(":", 1)[1] if ":" in inviter else ""
        excepted = (
            inviter in self.users
            or server in self.servers
            or (self.insured_group and inviter_is_insured)
        )
        return self.default_allow != excepted


def _names(content: Mapping[str, Any], key: str) -> frozenset[str]:
    value = content.get(key, {})
    if not isinstance(value, Mapping):  # Synapse hands out frozen mappings
        raise PermissionConfigError(f"{key} must be an object whose keys are the exceptions")
    return frozenset(str(k) for k in value)


def _groups(value: object) -> frozenset[str]:
    """gematik's Pro schema: a list of {"groupName": ...}; plain names are accepted too."""
    if not isinstance(value, list | tuple):  # frozen by Synapse: a tuple
        raise PermissionConfigError(_GROUP_SHAPE)
    names = [item.get("groupName") if isinstance(item, Mapping) else item for item in value]
    if not all(isinstance(name, str) for name in names):
        raise PermissionConfigError("every groupExceptions entry needs a groupName string")
    return frozenset(str(name) for name in names)


def parse(content: Mapping[str, Any] | None, *, pro: bool) -> PermissionConfig | None:
    """None when nothing is stored; PermissionConfigError when the content is malformed."""
    if content is None:
        return None
    default = content.get("defaultSetting")
    if default not in (ALLOW_ALL, BLOCK_ALL):
        raise PermissionConfigError(
            f"defaultSetting is {default!r}; allowed: {ALLOW_ALL!r}, {BLOCK_ALL!r}"
        )
    groups = _groups(content.get("groupExceptions", [])) if pro else frozenset()
    unknown = groups - {INSURED_GROUP}
    if unknown:
        raise PermissionConfigError(
            f"groupExceptions has {sorted(unknown)}; allowed: {INSURED_GROUP!r}"
        )
    return PermissionConfig(
        default_allow=default == ALLOW_ALL,
        users=_names(content, "userExceptions"),
        servers=_names(content, "serverExceptions"),
        insured_group=INSURED_GROUP in groups,
    )


def thaw(value: Any) -> Any:
    """Synapse's frozen account data (immutable mappings, tuples) as plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value
