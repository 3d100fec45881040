"""Handler: create an account on the homeserver, record its role; a patient gets a service room."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from messenger.accounts.names import password as new_password
from messenger.accounts.names import patient_localpart, slug
from messenger.bridge.admin_account import admin_token
from messenger.bridge.errors import HomeserverUnreachable, MatrixError, UserInUse
from messenger.bridge.homeserver_client import HomeserverClient, q
from messenger.config import duration_ms
from messenger.db.database import Database, now_ms
from messenger.db.stores import accounts as accounts_store
from messenger.db.stores import desk as desk_store
from messenger.db.stores.accounts import AccountRow
from messenger.desk import rooms as desk_rooms
from messenger.ids import STAFF, Role, RoomID, UserID, localpart, user_id
from messenger.kvnr import InvalidKVNR, kvnr_digest, parse_kvnr
from messenger.rooms.service_room import create_service_room
from messenger.settings import Settings

if TYPE_CHECKING:
    from messenger.accounts.coverage_end import CoverageEnds

log = logging.getLogger(__name__)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._=\-]{1,62}$")


SERVICE_ROOM_ROLES = (Role.PATIENT, Role.PRACTICE)  # agents work through the desk bot


class AccountInputError(ValueError):
    """Bad input for an account; the message names the field and what is allowed."""


def api_words(message: str) -> str:
    """A message naming a CLI option ("--display-name: …") with the API's and CSV's field name
    ("display_name: …")."""
    head, sep, rest = message.partition(": ")
    if sep and head.startswith("--"):
        return head[2:].replace("-", "_") + ": " + rest
    return message


async def find_person(conn: AsyncConnection, who: str, kvnr_key: str) -> AccountRow | None:
    """An account by Matrix ID (@…) or KVNR."""
    if who.startswith("@"):
        return await accounts_store.get(conn, who)
    try:
        digest = kvnr_digest(parse_kvnr(who), kvnr_key.encode())
    except InvalidKVNR as error:
        raise AccountInputError(f"ACCOUNT: a Matrix ID (@…) or a valid KVNR; {error}") from None
    return await accounts_store.get_by_kvnr_digest(conn, digest)


@dataclass(frozen=True)
class NewAccount:
    user_id: UserID
    role: Role
    display_name: str
    password: str | None  # only when we generated it
    service_room_id: RoomID | None
    homeserver: str
    warning: str | None = None
    insurer_room_id: RoomID | None = None
    created: bool = True  # False: the KVNR's existing account, returned again (idempotent)

    def as_json(self) -> dict[str, object]:
        return {
            "user_id": self.user_id, "role": self.role.value, "display_name": self.display_name,
            "homeserver": self.homeserver, "password": self.password,
            "service_room_id": self.service_room_id, "insurer_room_id": self.insurer_room_id,
            "warning": self.warning, "created": self.created,
        }  # fmt: skip


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    email = value.strip()
    if len(email) > 320 or not _EMAIL.match(email):
        raise AccountInputError(f"--email: {value!r} is not an e-mail address like name@example.de")
    return email


def validate_idp_subject(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    subject = value.strip()
    if len(subject) > 255 or any(ord(char) < 32 for char in subject):
        raise AccountInputError("--idp-subject: at most 255 characters, no control characters")
    return subject


def validate_display_name(value: str) -> str:
    name = value.strip()
    if not name:
        raise AccountInputError("--display-name: must not be empty")
    if len(name) > 100:
        raise AccountInputError("--display-name: at most 100 characters")
    if any(ord(char) < 32 for char in name):
        raise AccountInputError("--display-name: must not contain control characters")
    return name


class AccountHandler:
    def __init__(self, settings: Settings, db: Database, hs: HomeserverClient) -> None:
        self._settings = settings
        self._db = db
        self._hs = hs

    async def add(
        self,
        *,
        role: Role,
        display_name: str,
        kvnr: str | None = None,
        password: str | None = None,
        username: str | None = None,
        email: str | None = None,
        idp_subject: str | None = None,
    ) -> NewAccount:
        cfg = self._settings.config
        name = validate_display_name(display_name)
        digest = self._validate(role, kvnr, password, username)
        mail, subject = validate_email(email), validate_idp_subject(idp_subject)
        if digest is not None:
            async with self._db.transaction() as conn:
                existing = await accounts_store.get_by_kvnr_digest(conn, digest)
            if existing is not None:  # provisioning again: the same account, brought up to date
                return await self._update(existing, name, mail, subject)
        if subject is not None:
            async with self._db.reading() as conn:
                holder = await accounts_store.get_by_idp_subject(conn, subject)
            if holder is not None:
                raise AccountInputError(f"--idp-subject: belongs to {holder.user_id} already")
        generated = password is None
        secret = password or new_password(cfg.accounts.password_length)
        created = await self._register(role, name, secret, username)
        try:
            async with self._db.transaction() as conn:
                await accounts_store.insert(
                    conn,
                    user_id=created,
                    role=role,
                    display_name=name,
                    kvnr_digest=digest,
                    created_at=now_ms(),
                    email=mail,
                    idp_subject=subject,
                )
        except IntegrityError:
            # another `accounts add` with the same KVNR won the race: undo ours on the server
            await self._hs.deactivate(await admin_token(self._settings, self._hs), created)
            raise AccountInputError("--kvnr: an account with this KVNR exists already") from None
        log.info("account %s created with role %s", created, role.value)
        if subject is not None:
            await self._link_idp(created, subject)
        room, channel, warning = None, None, None
        try:
            if role in SERVICE_ROOM_ROLES:
                room = await self.provision_service_room(created)
            if role is Role.PATIENT:
                channel = await self.provision_insurer_channel(created)
            if role in STAFF:
                await self.invite_staff(created, role)
        except (MatrixError, HomeserverUnreachable) as error:
            warning = (
                f"the account's rooms could not all be set up yet ({error}); the appservice "
                "does it at its next start"
            )
        return NewAccount(
            user_id=created,
            role=role,
            display_name=name,
            password=secret if generated else None,
            service_room_id=room,
            homeserver=cfg.homeserver.public_url,
            warning=warning,
            insurer_room_id=channel,
        )

    async def _update(
        self, account: AccountRow, name: str, email: str | None, subject: str | None
    ) -> NewAccount:
        if name != account.display_name:
            await self._hs.request(
                "PUT", f"/_synapse/admin/v2/users/{q(account.user_id)}",
                body={"displayname": name}, token=await admin_token(self._settings, self._hs),
            )  # fmt: skip
        async with self._db.transaction() as conn:
            await accounts_store.update_person(conn, account.user_id, name, email, subject)
        if subject is not None:
            await self._link_idp(account.user_id, subject)
        cfg = self._settings.config
        async with self._db.reading() as conn:
            channel = await desk_store.channel_of_patient(conn, account.user_id)
        return NewAccount(
            user_id=account.user_id, role=account.role, display_name=name, password=None,
            service_room_id=account.service_room_id, homeserver=cfg.homeserver.public_url,
            insurer_room_id=RoomID(channel.room_id) if channel else None, created=False,
        )  # fmt: skip

    async def _link_idp(self, user: UserID, subject: str) -> None:
        """Map the identity provider's subject to this account in Synapse (its external id),
        so that an OIDC login with that subject logs into this account and no other."""
        oidc = self._settings.config.oidc
        if oidc is None:
            return
        await self._hs.request(
            "PUT", f"/_synapse/admin/v2/users/{q(user)}",
            body={"external_ids": [{"auth_provider": oidc.synapse_provider_id,
                                    "external_id": subject}]},
            token=await admin_token(self._settings, self._hs),
        )  # fmt: skip

    def coverage_ends(self) -> CoverageEnds:
        """The coverage-end handler on this handler's database and homeserver client."""
        from messenger.accounts.coverage_end import CoverageEnds

        return CoverageEnds(self._settings, self._db, self._hs,
                            lambda: admin_token(self._settings, self._hs))  # fmt: skip

    def _validate(
        self, role: Role, kvnr: str | None, password: str | None, username: str | None
    ) -> str | None:
        if password is not None and len(password) < 10:
            raise AccountInputError("--password: at least 10 characters")
        if username is not None:
            if role is Role.PATIENT:
                raise AccountInputError(
                    "--username: patients get a random, non-speaking Matrix ID; leave it out"
                )
            if not _USERNAME.match(username):
                raise AccountInputError(
                    "--username: 2-63 characters a-z, 0-9, '.', '_', '=', '-', "
                    "starting with a letter or digit"
                )
        if kvnr is None:
            return None
        if role is not Role.PATIENT:
            raise AccountInputError("--kvnr: only patients (insured persons) have a KVNR")
        try:
            return kvnr_digest(parse_kvnr(kvnr), self._settings.secrets.kvnr_key.encode())
        except InvalidKVNR as error:
            raise AccountInputError(f"--kvnr: {error}") from None

    async def _register(self, role: Role, name: str, secret: str, username: str | None) -> UserID:
        cfg = self._settings.config
        shared = self._settings.secrets.registration_shared_secret
        for attempt in range(1, 20):
            if role is Role.PATIENT:
                local = patient_localpart(cfg.accounts.patient_prefix)
            elif username is not None:
                local = username
            else:
                local = slug(name) if attempt == 1 else f"{slug(name)}-{attempt}"
            try:
                response = await self._hs.register_with_shared_secret(
                    shared, local, secret, name, admin=False
                )
            except UserInUse:
                if username is not None:
                    raise AccountInputError(f"--username: {local} is taken") from None
                continue
            # Registration logs a device in; drop it so no key-less device shows up to others.
            await self._hs.logout(str(response["access_token"]))
            return user_id(local, cfg.homeserver.server_name)
        raise AccountInputError("--display-name: could not find a free Matrix ID; pass --username")

    async def provision_service_room(self, patient: UserID) -> RoomID:
        cfg = self._settings.config
        bot = cfg.bot_user_id(cfg.bots.service)
        await self._hs.register_appservice_user(localpart(bot))
        room = await create_service_room(self._hs, bot, patient, cfg.bots.service.display_name)
        async with self._db.transaction() as conn:
            await accounts_store.set_service_room(conn, patient, room)
        log.info("service room %s created for %s", room, patient)
        return room

    async def provision_insurer_channel(self, patient: UserID) -> RoomID:
        """The patient's encrypted channel with the insurer's desk bot."""
        cfg = self._settings.config
        bot = cfg.bot_user_id(cfg.bots.desk)
        await self._hs.register_appservice_user(localpart(bot))
        room = await desk_rooms.create_channel(
            self._hs, bot, patient, cfg.desk_name, duration_ms(cfg.desk.purge_after)
        )
        async with self._db.transaction() as conn:
            await desk_store.add_channel(conn, patient, room, now_ms())
        log.info("insurer channel %s created for %s", room, patient)
        return room

    async def provision_missing_insurer_channels(self) -> int:
        async with self._db.transaction() as conn:
            missing = await desk_store.patients_without_channel(conn)
        made = 0
        for patient in missing:
            try:
                await self.provision_insurer_channel(UserID(patient))
                made += 1
            except (MatrixError, HomeserverUnreachable):
                log.exception("insurer channel for %s: not created; retried later", patient)
        return made

    async def invite_staff(self, user: UserID, role: Role) -> None:
        """Agents into the queue; supervisors also into the supervisors' room. Rooms that do
        not exist yet are made by the desk bot at its start, inviting all staff."""
        cfg = self._settings.config
        bot = cfg.bot_user_id(cfg.bots.desk)
        names = ("queue", "supervisors") if role is Role.SUPERVISOR else ("queue",)
        async with self._db.reading() as conn:
            found = [await desk_store.desk_room(conn, name) for name in names]
        for room in found:
            if room is not None:
                await desk_rooms.invite_user(self._hs, bot, RoomID(room), user)

    async def provision_missing_service_rooms(self) -> int:
        """Create service rooms that a crash or an earlier outage left out. Returns how many."""
        async with self._db.transaction() as conn:
            missing = await accounts_store.without_service_room(conn)
        made = 0
        for account in missing:
            try:
                await self.provision_service_room(account.user_id)
                made += 1
            except (MatrixError, HomeserverUnreachable):
                log.exception("service room for %s: not created; retried later", account.user_id)
        return made

    async def list(self, role: Role | None = None) -> list[AccountRow]:
        async with self._db.transaction() as conn:
            return await accounts_store.list_accounts(conn, role)

    async def show(self, who: str) -> AccountRow | None:
        async with self._db.reading() as conn:
            return await find_person(conn, who, self._settings.secrets.kvnr_key)
