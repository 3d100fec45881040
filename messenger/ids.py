"""Typed Matrix identifiers and the roles our users play."""

from __future__ import annotations

import enum
from typing import NewType

UserID = NewType("UserID", str)
RoomID = NewType("RoomID", str)
EventID = NewType("EventID", str)
DeviceID = NewType("DeviceID", str)
TxnID = NewType("TxnID", str)


class Role(enum.StrEnum):
    """What a person is in the messenger; decides what they may do."""

    PATIENT = "patient"
    PRACTICE = "practice"
    AGENT = "agent"
    SUPERVISOR = "supervisor"  # an agent who also gets the desk's escalations


STAFF = frozenset({Role.AGENT, Role.SUPERVISOR})  # who may claim, read and answer tickets


def user_id(localpart: str, server_name: str) -> UserID:
    return UserID(f"@{localpart}:{server_name}")


def localpart(uid: str) -> str:
    return uid[1:].split(":", 1)[0]
