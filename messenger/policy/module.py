"""The Synapse module class: parses its config, registers callbacks and its web resources.

User directory: Synapse asks `check_username_for_spam` for every search result; only practices
that are visible in our provider directory (listed, accepting, active, not hidden) pass, so a
search never shows a patient (or an agent) to anybody. The visible set is fetched from the
appservice at start, every minute, and at once when the appservice or the CLI posts to
/_synapse/client/messenger/policy/refresh after a change.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from synapse.module_api import DirectServeJsonResource, ModuleApi, UserProfile
from synapse.module_api.errors import Codes, ConfigError, SynapseError

from messenger.namespace import LEAVE_PROMPT_TYPE, NAMESPACE, ROOM_KIND_KEY
from messenger.policy.facts import FactsSource
from messenger.policy.in_flight import RequestsInFlight
from messenger.policy.paths import REFRESH_PATH, STATUS_PATH, VISIBLE_PATH
from messenger.policy.permissions import (
    EPA_TYPE,
    PERMISSION_TYPES,
    PRO_TYPE,
    PermissionConfig,
    PermissionConfigError,
    thaw,
)
from messenger.policy.permissions import parse as parse_permissions
from messenger.policy.reasons import reason_text
from messenger.policy.rules import (
    RULES,
    InviteFacts,
    Kind,
    Refusal,
    care_power_levels,
    decide_invite,
    decide_join,
    decide_room_config,
    decide_state,
    invitees_of,
    is_new_chat_request,
    kind_of,
    shown_in_user_directory,
)
from messenger.policy.timing import DecisionTimes

log = logging.getLogger(__name__)
REFRESH_EVERY_MS = 60_000
_KEYS = ("appservice_id", "bot_prefix", "appservice_url", "as_token", "hs_token")
CREATION_CHECK_VALID_S = 10.0
EMERGENCY_TOPIC = (
    "Kein Notfall-Chat: im Notfall 112, ärztlicher Bereitschaftsdienst 116117. / "
    "Not for emergencies: call 112, or 116117 for the on-call doctor."
)


@dataclass(frozen=True)
class PolicyConfig:
    appservice_id: str
    bot_prefix: str
    appservice_url: str
    as_token: str  # what the appservice and our CLI present when they push a refresh
    hs_token: str  # what we present to the appservice when we fetch
    insurer_domains: frozenset[str] = frozenset()


class _StatusResource(DirectServeJsonResource):
    """GET answers which rules are active, so operators and tests can see the module is loaded."""

    def __init__(self, module: PolicyModule) -> None:
        super().__init__()
        self._module = module

    async def _async_render_GET(self, _request: Any) -> tuple[int, dict[str, Any]]:
        return 200, {
            "module": "messenger.policy",
            "appservice_id": self._module.config.appservice_id,
            "rules": list(RULES),
            "visible_practices": len(self._module.visible),
            "invite_decisions": self._module.decisions.summary(),
            "permission_reads": self._module.permission_reads.summary(),
            "facts": {
                "following": self._module.facts.following,
                "tick": self._module.facts.tick,
                "held": len(self._module.facts),
                "fetches": self._module.facts.fetches,
            },
        }


class _RefreshResource(DirectServeJsonResource):
    def __init__(self, module: PolicyModule) -> None:
        super().__init__()
        self._module = module

    async def _async_render_POST(self, request: Any) -> tuple[int, dict[str, Any]]:
        header = request.getHeader("Authorization") or ""
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        if not hmac.compare_digest(token.encode(), self._module.config.as_token.encode()):
            return 403, {"errcode": "M_FORBIDDEN", "error": "wrong token"}
        count = await self._module.refresh()
        return 200, {"visible_practices": count}


class PolicyModule:
    def __init__(self, config: PolicyConfig, api: ModuleApi) -> None:
        self.config = config
        self._api = api
        self.visible: frozenset[str] = frozenset()
        self.facts = FactsSource(
            api.http_client, config.appservice_url, config.hs_token, sleep=api.sleep,
            on_connected=self.refresh,  # the appservice is (back) up: its visible set too
        )  # fmt: skip
        self.decisions = DecisionTimes()
        self.requests_in_flight = RequestsInFlight()
        self.permission_reads = DecisionTimes()  # the part of a decision spent on account data
        self._permission_changes: dict[tuple[str, str], int] = {}  # (user, type) -> generation
        # pairs just checked by on_create_room: Synapse asks user_may_invite again for the same
        # invite moments later; that second question is answered without a second facts fetch
        self._checked_at_creation: dict[tuple[str, str], float] = {}
        api.register_web_resource(STATUS_PATH, _StatusResource(self))
        api.register_web_resource(REFRESH_PATH, _RefreshResource(self))
        api.register_spam_checker_callbacks(
            check_username_for_spam=self.check_username_for_spam,
            user_may_invite=self.user_may_invite,
            user_may_publish_room=self.user_may_publish_room,
        )
        api.register_third_party_rules_callbacks(
            on_create_room=self.on_create_room, check_event_allowed=self.check_event_allowed
        )
        api.register_account_data_callbacks(on_account_data_updated=self.on_account_data_updated)
        # the looping call first fires after a full interval: fetch once right away as well
        api.delayed_background_call(0, self.refresh, desc="messenger directory first refresh")
        api.looping_background_call(
            self.refresh, REFRESH_EVERY_MS, desc="messenger directory refresh",
            run_on_all_instances=True,  # every worker that decides needs the set
        )  # fmt: skip
        api.delayed_background_call(0, self.facts.follow, desc="messenger policy facts")
        log.info("messenger policy module loaded with %d rules", len(RULES))

    async def refresh(self) -> int:
        """Fetch the visible practices; on failure keep the set we had. The held records of
        users who became visible or stopped being visible are dropped (a practice known only
        from the directory may have gone, or come)."""
        try:
            body = await self._api.http_client.get_json(
                self.config.appservice_url.rstrip("/") + VISIBLE_PATH,
                headers={"Authorization": [f"Bearer {self.config.hs_token}"]},
            )
        except Exception as error:  # the appservice may not be up yet
            log.info("directory visibility not refreshed: %s", error)
            return len(self.visible)
        ids = body.get("matrix_ids") if isinstance(body, dict) else None
        if isinstance(ids, list):
            visible = frozenset(str(i) for i in ids)
            for user in self.visible - visible:
                self.facts.drop(user)
            for user in visible - self.visible:  # a record may say "not a practice" (yet)
                held = self.facts.held(user)
                if held is not None and held.role != "practice":
                    self.facts.drop(user)
            self.visible = visible
        return len(self.visible)

    # --- classification -------------------------------------------------------------------
    def _is_bot(self, user: str) -> bool:
        return self._api.is_mine(user) and user[1:].startswith(self.config.bot_prefix)

    def _kind(self, user: str, role: str | None) -> Kind:
        if self._is_bot(user):
            return Kind.BOT
        return kind_of(user, role, self._api.server_name, self.config.insurer_domains)

    async def _permissions(self, invitee: str, kind: Kind) -> PermissionConfig | None:
        """The invitee's own invite settings (local users only); malformed ones count as
        absent, so a broken client cannot lock a user out. From the invitee's record where
        the appservice knows them; else read from Synapse (and passed on for next time)."""
        if not self._api.is_mine(invitee) or kind not in (Kind.INSURED, Kind.PRACTICE):
            return None
        pro = kind is Kind.PRACTICE
        kind_type = PRO_TYPE if pro else EPA_TYPE
        record = await self.facts.record(invitee)
        if record is not None and kind_type in record.permissions:
            stored: Any = record.permissions[kind_type]
        else:
            started = time.perf_counter()
            stored = await self._api.account_data_manager.get_global(invitee, kind_type)
            self.permission_reads.add(time.perf_counter() - started)
            stored = thaw(stored) if stored is not None else None
            self._api.run_as_background_process(
                "messenger permissions backfill", self._backfill, invitee, kind_type, stored
            )
        try:
            return parse_permissions(stored, pro=pro)
        except PermissionConfigError as error:
            log.warning("ignoring malformed invite permissions of %s: %s", invitee, error)
            return None

    async def _backfill(self, user: str, kind_type: str, content: Any) -> None:
        await self.facts.report_permissions(user, kind_type, content, backfill=True)

    def _refuse(self, refusal: Refusal) -> NoReturn:
        raise SynapseError(
            refusal.status,
            reason_text(refusal),
            Codes.FORBIDDEN if refusal.status == 403 else Codes.INVALID_PARAM,
            additional_fields={f"{NAMESPACE}.rule": refusal.rule},
        )

    # --- invites --------------------------------------------------------------------------
    async def _check_invite(self, inviter: str, invitee: str, room_id: str | None) -> None:
        if self._is_bot(inviter):
            return
        started = time.perf_counter()
        now_ms = int(time.time() * 1000)  # one clock for the day's count and the reservation
        try:
            facts = await self.facts.invite(inviter, invitee, self.visible, now_ms)
            if facts is None:
                facts = self._fallback_facts(inviter, invitee)
            inviter_kind = self._kind(inviter, facts.inviter_role)
            invitee_kind = self._kind(invitee, facts.invitee_role)
            reservation = None
            if is_new_chat_request(inviter_kind, invitee_kind, facts, room_id):
                # no await between reading the facts and this: a burst of requests is counted
                facts, reservation = self.requests_in_flight.admit(inviter, facts, now_ms)
            try:
                refusal = decide_invite(
                    inviter, inviter_kind, invitee_kind, facts, room_id,
                    await self._permissions(invitee, invitee_kind),
                )  # fmt: skip
                if refusal is not None:
                    log.info("refused invite %s -> %s: %s", inviter, invitee, refusal.rule)
                    self._refuse(refusal)
            except BaseException:
                if reservation is not None:
                    self.requests_in_flight.cancel(reservation)
                raise
        finally:
            self.decisions.add(time.perf_counter() - started)

    def _fallback_facts(self, inviter: str, invitee: str) -> InviteFacts:
        """The appservice did not answer. Without its facts we cannot tell whether the inviter
        is an insured person (or may reach the invitee), so unless we know the inviter is not
        insured, the invite is refused - closed, with a message saying why."""
        known, role = self.facts.cached_role(inviter, self.visible)
        if not known or self._kind(inviter, role) is Kind.INSURED:
            self._refuse(Refusal("facts-unavailable"))
        return InviteFacts(
            inviter_role=role, invitee_role=self.facts.cached_role(invitee, self.visible)[1]
        )

    async def user_may_invite(
        self, inviter: str, invitee: str, room_id: str
    ) -> Literal["NOT_SPAM"]:
        until = self._checked_at_creation.pop((inviter, invitee), 0.0)
        if until < time.monotonic():
            await self._check_invite(inviter, invitee, room_id)
        return "NOT_SPAM"

    async def user_may_publish_room(self, user_id: str, room_id: str) -> Any:
        """Nobody publishes rooms to the public room directory."""
        if self._is_bot(user_id):
            return "NOT_SPAM"
        self._refuse(Refusal("no-room-directory"))

    # --- room creation --------------------------------------------------------------------
    async def on_create_room(
        self, requester: Any, config: dict[str, Any], is_requester_admin: bool
    ) -> None:
        creator = requester.user.to_string()
        if self._is_bot(creator):
            return
        refusal = decide_room_config(config)
        if refusal is not None:
            self._refuse(refusal)
        creation = config.get("creation_content")
        if isinstance(creation, dict):
            creation.pop(ROOM_KIND_KEY, None)  # only our bots mark what a room is
        invitees = invitees_of(config)
        if invitees:
            await self._check_invite(creator, invitees[0], None)
            now = time.monotonic()
            self._checked_at_creation = {
                pair: until for pair, until in self._checked_at_creation.items() if until > now
            }
            self._checked_at_creation[(creator, invitees[0])] = now + CREATION_CHECK_VALID_S
            await self._mark_care_chat(creator, invitees[0], config)

    async def _mark_care_chat(self, creator: str, invitee: str, config: dict[str, Any]) -> None:
        """A chat between an insured person and a practice is a care chat: marked as such and,
        unless the creator chose a topic, titled with the emergency hint both sides see."""
        roles = await self.facts.roles([creator, invitee], self.visible)
        if roles is None:
            return
        kinds = {self._kind(creator, roles.get(creator)), self._kind(invitee, roles.get(invitee))}
        if kinds != {Kind.INSURED, Kind.PRACTICE}:
            return
        creation = config.setdefault("creation_content", {})
        if isinstance(creation, dict):
            creation[ROOM_KIND_KEY] = "care"
        config["power_level_content_override"] = care_power_levels(
            config.get("power_level_content_override")
        )
        initial = config.get("initial_state")
        has_topic = isinstance(initial, list) and any(
            isinstance(item, dict) and item.get("type") == "m.room.topic" for item in initial
        )
        if not config.get("topic") and not has_topic:
            config["topic"] = EMERGENCY_TOPIC

    # --- events ---------------------------------------------------------------------------
    async def check_event_allowed(
        self, event: Any, state_events: Mapping[tuple[str, str], Any]
    ) -> tuple[bool, dict[str, Any] | None]:
        refusal = await self._event_refusal(event, state_events)
        if refusal is None:
            return True, None
        if self._api.is_mine(event.sender):
            self._refuse(refusal)
        log.info("refused remote event %s: %s", event.event_id, refusal.rule)
        return False, None

    async def _event_refusal(
        self, event: Any, state_events: Mapping[tuple[str, str], Any]
    ) -> Refusal | None:
        encryption = state_events.get(("m.room.encryption", ""))
        if event.type == "m.room.redaction":
            if encryption is not None and event.redacts == encryption.event_id:
                return Refusal("always-encrypted")
            return None
        if not event.is_state():
            return None
        if event.type == "m.room.member":
            if event.content.get("membership") == "join" and event.state_key == event.sender:
                return await self._join_refusal(event.sender, state_events)
            return None
        current = encryption.content if encryption is not None else None
        return decide_state(event.type, event.content, current)

    async def _join_refusal(
        self, joiner: str, state_events: Mapping[tuple[str, str], Any]
    ) -> Refusal | None:
        if self._is_bot(joiner):
            return None
        others = [
            key[1]
            for key, member in state_events.items()
            if key[0] == "m.room.member"
            and key[1] != joiner
            and member.content.get("membership") in ("join", "invite")
        ]
        roles = await self.facts.roles([joiner, *others], self.visible)
        if roles is None:  # only an insured joiner can break the rule: let known others in
            known, role = self.facts.cached_role(joiner, self.visible)
            if known and self._kind(joiner, role) is not Kind.INSURED:
                return None
            return Refusal("facts-unavailable")
        return decide_join(
            self._kind(joiner, roles.get(joiner)),
            [self._kind(user, roles.get(user)) for user in others],
        )

    # --- account data ---------------------------------------------------------------------
    async def on_account_data_updated(
        self, user_id: str, room_id: str | None, account_data_type: str, content: Any
    ) -> None:
        """A patient's leave-prompt threshold set by any client goes to the appservice, which
        keeps the copy its daily job reads (and tells the patient if the value is invalid)."""
        if room_id is not None or not self._api.is_mine(user_id):
            return
        if account_data_type in PERMISSION_TYPES:
            await self._permissions_changed(user_id, account_data_type, thaw(content))
        elif account_data_type == LEAVE_PROMPT_TYPE:
            await self.facts.leave_threshold(user_id, thaw(content))

    async def _permissions_changed(self, user: str, kind_type: str, content: Any) -> None:
        """Invite settings changed (only the instance that stores account data hears it): to
        the appservice, whose change log takes them to every instance. If that fails, retried
        in the background (unless a newer change came); if it never gets through, the record
        keeps the old settings - logged as an error."""
        value = content if isinstance(content, dict) and content else None
        key = (user, kind_type)
        self._permission_changes[key] = generation = self._permission_changes.get(key, 0) + 1
        if await self.facts.report_permissions(user, kind_type, value, backfill=False):
            if self._permission_changes.get(key) == generation:
                del self._permission_changes[key]
            return
        self._api.run_as_background_process(
            "messenger permissions retry", self._retry_permissions, key, generation, value
        )

    async def _retry_permissions(
        self, key: tuple[str, str], generation: int, value: dict[str, Any] | None
    ) -> None:
        for pause in (1.0, 5.0, 30.0, 120.0):
            await self._api.sleep(pause)
            if self._permission_changes.get(key) != generation:
                return  # a newer change is on its way
            if await self.facts.report_permissions(*key, value, backfill=False):
                if self._permission_changes.get(key) == generation:
                    del self._permission_changes[key]
                return
        log.error("invite permissions of %s could not be passed on; invites to this user may "
                  "be decided with the previous settings", key[0])  # fmt: skip

    # --- user directory -------------------------------------------------------------------
    async def check_username_for_spam(self, user_profile: UserProfile, requester_id: str) -> bool:
        """True hides the user from the requester's user-directory search."""
        return not shown_in_user_directory(user_profile["user_id"], self.visible)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> PolicyConfig:
        if not isinstance(config, dict):
            raise ConfigError("the messenger policy module config must be a mapping")
        unknown = set(config) - {*_KEYS, "insurer_domains"}
        if unknown:
            raise ConfigError(f"unknown key(s) {sorted(unknown)}; allowed: {', '.join(_KEYS)}")
        for key in _KEYS:
            if not isinstance(config.get(key), str) or not config[key]:
                raise ConfigError(f"{key} must be a non-empty string", path=[key])
        domains = config.get("insurer_domains", [])
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise ConfigError("insurer_domains must be a list of domains", path=["insurer_domains"])
        return PolicyConfig(
            **{key: config[key] for key in _KEYS}, insurer_domains=frozenset(domains)
        )
