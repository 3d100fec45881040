"""Self-cross-signing of a bot device (spec v1.18 / MSC4153: current clients only share keys with,
and show messages from, cross-signed devices). nio has no cross-signing; we use signedjson."""

from __future__ import annotations

import json
import logging
from typing import Any

from signedjson.key import (
    decode_signing_key_base64,
    encode_signing_key_base64,
    generate_signing_key,
    get_verify_key,
)
from signedjson.sign import sign_json
from unpaddedbase64 import encode_base64

from messenger.bridge.errors import MatrixError
from messenger.bridge.homeserver_client import HomeserverClient
from messenger.ids import DeviceID, UserID

log = logging.getLogger(__name__)
USAGES = ("master", "self_signing", "user_signing")


def _key_with_public_id(seed: str | None) -> Any:
    key = decode_signing_key_base64("ed25519", "x", seed) if seed else generate_signing_key("x")
    key.version = encode_base64(get_verify_key(key).encode())
    return key


def _public(key: Any, user: UserID, usage: str) -> dict[str, Any]:
    return {"user_id": user, "usage": [usage], "keys": {f"ed25519:{key.version}": key.version}}


class CrossSigningError(Exception):
    pass


async def _publish_identity(hs: HomeserverClient, user: UserID, keys: dict[str, Any]) -> None:
    master = _public(keys["master"], user, "master")
    current = await hs.master_key(user)
    if current is not None and current.get("keys") == master["keys"]:
        return  # the server has our identity already; re-uploading would only churn clients
    self_signing = sign_json(
        _public(keys["self_signing"], user, "self_signing"), user, keys["master"]
    )
    user_signing = sign_json(
        _public(keys["user_signing"], user, "user_signing"), user, keys["master"]
    )
    await hs.upload_cross_signing_keys(user, master, self_signing, user_signing)


async def cross_sign_device(
    hs: HomeserverClient, user: UserID, device: DeviceID, seeds_json: str | None
) -> str:
    """Make sure our cross-signing identity is on the server and sign the device with it.

    Returns the seeds as JSON for safe keeping; passing them back keeps the same identity.
    """
    seeds: dict[str, str] = json.loads(seeds_json) if seeds_json else {}
    keys = {usage: _key_with_public_id(seeds.get(usage)) for usage in USAGES}
    try:
        await _publish_identity(hs, user, keys)
    except MatrixError as error:
        if not seeds:
            raise
        # Synapse keeps cross-signing keys as hidden device rows keyed by public key and fails
        # (500) when an identity it replaced earlier is uploaded again: start a fresh identity.
        log.warning("cross-signing identity of %s refused (%s); creating a new one", user, error)
        keys = {usage: _key_with_public_id(None) for usage in USAGES}
        await _publish_identity(hs, user, keys)
    device_keys = await hs.device_keys(user, device)
    device_keys.pop("unsigned", None)
    failures = await hs.upload_signatures(
        user, device, sign_json(device_keys, user, keys["self_signing"])
    )
    if failures:
        raise CrossSigningError(f"the homeserver refused the device signature: {failures}")
    return json.dumps({usage: encode_signing_key_base64(keys[usage]) for usage in USAGES})
