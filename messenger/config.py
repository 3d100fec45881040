"""Configuration: the YAML file loaded into frozen, typed sections (the secrets beside it, and
what a process is given - config, secrets, data dir - are in settings.py).

Errors name the exact key and what is allowed (ConfigError).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from messenger.ids import UserID, user_id

_DURATION = re.compile(r"^([0-9]+)(ms|s|m|h|d|w|y)?$")
_LOCALPART = re.compile(r"^[a-z0-9._=\-/]+$")
SECRET_NAMES = (
    "as_token",
    "hs_token",
    "registration_shared_secret",
    "pickle_key",
    "kvnr_key",
    "admin_password",
    "admin_api_token",
)


class ConfigError(Exception):
    """The configuration is wrong; the message names the key and what is allowed."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _duration(value: str, key: str) -> str:
    if not _DURATION.match(str(value)):
        raise ValueError(
            f"{value!r} is not a duration; use a number with a unit ms, s, m, h, d, w or y "
            f"(e.g. 1h, 7d, 5y) for {key}"
        )
    return str(value)


def _time_of_day(value: str) -> str:
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", str(value)):
        raise ValueError(f"{value!r} is not a time of day; use HH:MM, e.g. 09:00")
    return str(value)


_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
            "w": 7 * 86_400_000, "y": 365 * 86_400_000}  # fmt: skip


def duration_ms(value: str) -> int:
    """A validated duration ('90s', '14d') in milliseconds; a bare number is milliseconds."""
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration")
    return int(match.group(1)) * _UNIT_MS[match.group(2) or "ms"]


class ScaledSection(_Section):
    """The scaled deployment: Synapse on PostgreSQL, Redis replication and Synapse workers
    behind nginx (`messenger up` runs and supervises every process). Left out: one Synapse
    process on SQLite, the embedded default."""

    # Synapse's own database (never ours): postgresql://USER[:PASSWORD]@HOST:PORT/NAME;
    # `messenger up` creates it with the locale Synapse requires when it does not exist
    synapse_database: str
    redis_host: str = "127.0.0.1"
    redis_port: int = Field(6379, ge=1, le=65535)
    # generic workers for /sync and the client API (requests of one user stay on one worker)
    client_workers: int = Field(2, ge=1, le=32)
    # the first of the loopback ports the processes listen on behind the proxy: the main
    # process (client, replication), then one per worker; clients use homeserver.port (nginx)
    internal_port: int = Field(18100, ge=1024, le=65000)
    # our appservice as this many processes (availability): nginx on appservice.port passes
    # each request to a running one; one of them (the holder of the database lease) runs the
    # bots and the scheduled jobs, another takes over when it stops or dies
    appservice_processes: int = Field(1, ge=1, le=4)
    proxy: Literal["nginx"] = "nginx"
    nginx_binary: str = "nginx"

    @field_validator("synapse_database")
    @classmethod
    def _database(cls, value: str) -> str:
        if not re.match(r"^postgres(ql)?://[^/]+/[A-Za-z0-9_]+$", value):
            raise ValueError(
                "use postgresql://USER[:PASSWORD]@HOST:PORT/NAME (a database name of "
                "letters, digits and '_')"
            )
        return value


class HomeserverSection(_Section):
    mode: Literal["embedded", "external"] = "embedded"
    server_name: str = "localhost"
    bind_address: str = "127.0.0.1"
    port: int = Field(8008, ge=1, le=65535)
    public_baseurl: str | None = None
    url: str | None = None
    federation: bool = False
    redaction_retention_period: str = "1h"
    retention_max_lifetime: str = "5y"
    scaled: ScaledSection | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("server_name")
    @classmethod
    def _server_name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$", value):
            raise ValueError("a server name is a host name such as example.org or localhost")
        return value

    @field_validator("redaction_retention_period", "retention_max_lifetime")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value, "this key")

    @model_validator(mode="after")
    def _scaled_is_embedded(self) -> HomeserverSection:
        if self.scaled is not None and self.mode != "embedded":
            raise ValueError("scaled: only an embedded homeserver (mode: embedded) is run scaled")
        return self

    @property
    def client_url(self) -> str:
        """Where our own processes reach Synapse."""
        if self.mode == "external" and self.url:
            return self.url.rstrip("/")
        return f"http://{self.bind_address}:{self.port}"

    @property
    def public_url(self) -> str:
        return (self.public_baseurl or self.client_url + "/").rstrip("/") + "/"


class AppserviceSection(_Section):
    id: str = "messenger"
    bind_address: str = "127.0.0.1"
    port: int = Field(29330, ge=1, le=65535)
    namespace_prefix: str = "_messenger_"
    # Under traffic, the answer to a small Synapse transaction waits until this long after the
    # previous answer, so that the next transaction carries what queued meanwhile (its events are
    # stored and applied before). "0" answers at once. See bridge/pace.py.
    transaction_window: str = "1s"

    @field_validator("transaction_window", mode="before")
    @classmethod
    def _unquoted_zero(cls, value: object) -> object:
        """YAML reads `transaction_window: 0` as a number: that is "off", as documented; a
        bare number is milliseconds, as in every duration."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return "0" if value == 0 else str(value)
        return value

    @field_validator("transaction_window")
    @classmethod
    def _window(cls, value: str) -> str:
        value = _duration(value, "appservice.transaction_window")
        if duration_ms(value) > 5000:
            raise ValueError(f"{value!r} is too long; at most 5s (the room registry lags by it)")
        return value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not value or "|" in value:
            raise ValueError("the appservice id must be non-empty and must not contain '|'")
        return value

    @field_validator("namespace_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.startswith("_") or not _LOCALPART.match(value):
            raise ValueError(
                "the namespace prefix must start with '_' and use only a-z, 0-9, '.', '_', '=', '-'"
            )
        return value

    @property
    def url(self) -> str:
        return f"http://{self.bind_address}:{self.port}"


class DatabaseSection(_Section):
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(
            ("sqlite+aiosqlite://", "postgresql+asyncpg://")
        ):
            raise ValueError(
                "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST:PORT/DB"
            )
        return value


class BotSection(_Section):
    localpart: str
    display_name: str
    device_display_name: str = "messenger bot"

    @field_validator("localpart")
    @classmethod
    def _localpart(cls, value: str) -> str:
        if not _LOCALPART.match(value):
            raise ValueError("a localpart uses only a-z, 0-9, '.', '_', '=', '-', '/'")
        return value


class BotsSection(_Section):
    service: BotSection = BotSection(
        localpart="service", display_name="Service", device_display_name="messenger service bot"
    )
    # the insurer desk bot; its display name is the insurer's name (insurer.name) when empty
    desk: BotSection = BotSection(
        localpart="desk", display_name="", device_display_name="messenger desk bot"
    )


class AccountsSection(_Section):
    patient_prefix: str = "p-"
    password_length: int = Field(20, ge=12, le=128)
    # warnings before a coverage end, in days before the date (the service room gets each once)
    coverage_warnings: tuple[int, ...] = (30, 7, 1)
    # when the daily coverage-end job runs (warnings; on the date: the end itself), Berlin time
    coverage_check_at: str = "00:15"

    @field_validator("coverage_warnings")
    @classmethod
    def _warnings(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 1 or day > 365 for day in value):
            raise ValueError("each warning is 1 to 365 days before the end")
        return tuple(sorted(set(value), reverse=True))

    @field_validator("coverage_check_at")
    @classmethod
    def _check_at(cls, value: str) -> str:
        return _time_of_day(value)


class InsurerSection(_Section):
    name: str = "Ihre Krankenkasse"


class ChatRequestsSection(_Section):
    """Chat requests from patients to practices, and the practices' access codes."""

    expire_after: str = "14d"
    max_open_per_patient: int = Field(5, ge=1, le=100)
    max_per_day: int = Field(10, ge=1, le=1000)
    code_valid_for: str = "14d"
    check_every: str = "1m"

    @field_validator("expire_after", "code_valid_for", "check_every")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value, "this key")


class RetentionSection(_Section):
    """The job scheduler's jobs: leave prompts, abandoned rooms, chat-request expiry."""

    leave_prompt_default_months: int = Field(6, ge=1, le=60)
    leave_prompts_at: str = "09:00"  # daily, local time of the insurer (Europe/Berlin)
    abandoned_rooms_deleted_within: str = "7d"
    state_only_rooms_after: str = "6w"
    cleanup_every: str = "1d"

    @field_validator("abandoned_rooms_deleted_within", "state_only_rooms_after", "cleanup_every")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value, "this key")

    @field_validator("leave_prompts_at")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        return _time_of_day(value)

    @model_validator(mode="after")
    def _cleanup_in_time(self) -> RetentionSection:
        if duration_ms(self.cleanup_every) > duration_ms(self.abandoned_rooms_deleted_within):
            raise ValueError(
                "cleanup_every must not be longer than abandoned_rooms_deleted_within, or "
                "abandoned rooms would not be deleted in time"
            )
        return self


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PERIOD = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")


class DeskTopic(_Section):
    """A concern patients pick before writing to the insurer."""

    key: str
    de: str
    en: str
    sla: str | None = None  # first-response target of this topic; default desk.sla

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9_\-]{1,32}", value):
            raise ValueError("a topic key uses 1-32 characters a-z, 0-9, '_', '-'")
        return value

    @field_validator("sla")
    @classmethod
    def _sla(cls, value: str | None) -> str | None:
        return None if value is None else _duration(value, "this key")


DEFAULT_TOPICS = (
    DeskTopic(key="mitgliedschaft", de="Mitgliedschaft & Beiträge",
              en="Membership & contributions"),
    DeskTopic(key="krankengeld", de="Krankengeld", en="Sickness benefit"),
    DeskTopic(key="leistungen", de="Leistungen & Anträge", en="Benefits & applications"),
    DeskTopic(key="bescheinigungen", de="Bescheinigungen", en="Certificates"),
    DeskTopic(key="kontaktdaten", de="Kontakt- & Bankdaten", en="Contact & bank details"),
    DeskTopic(key="sonstiges", de="Sonstiges", en="Other"),
)  # fmt: skip


class DeskSection(_Section):
    """The insurer channel: topics, the first-response SLA and its calendar, the queue."""

    topics: tuple[DeskTopic, ...] = DEFAULT_TOPICS
    sla: str = "24h"
    # null: the clock runs 24/7. Otherwise working periods per weekday, e.g.
    # {mon: ["08:00-12:00", "13:00-18:00"], ...}; days left out are closed.
    business_hours: dict[str, tuple[str, ...]] | None = None
    holidays: tuple[str, ...] = ()  # YYYY-MM-DD, closed all day
    timezone: str = "Europe/Berlin"
    remind_at: tuple[float, ...] = (0.75,)  # fractions of the SLA at which to remind
    claim_timeout: str = "4h"  # a claimed ticket nobody answered returns to the queue
    after_close: Literal["reopen", "new_ticket"] = "reopen"
    reopen_within: str = "7d"  # after_close: reopen only within this time, else a new ticket
    agent_names: Literal["first_name", "none"] = "first_name"
    canned: dict[str, str] = Field(default_factory=dict)  # short name -> reply text
    check_every: str = "1m"  # how often reminders, breaches and claim timeouts are checked
    purge_after: str = "5y"  # insurer-channel messages, media and tickets older than this
    purge_at: str = "03:00"  # daily, local time

    @field_validator("sla", "claim_timeout", "reopen_within", "check_every", "purge_after")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value, "this key")

    @field_validator("purge_at")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        return _time_of_day(value)

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: dict[str, tuple[str, ...]] | None) -> dict[str, tuple[str, ...]] | None:
        for day, periods in (value or {}).items():
            if day not in _WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday; use {', '.join(_WEEKDAYS)}")
            spans = []
            for period in periods:
                match = _PERIOD.match(period)
                if not match or match.group(1, 2) >= match.group(3, 4):
                    raise ValueError(
                        f"{day}: {period!r} is not a period; use HH:MM-HH:MM, start before end"
                    )
                spans.append((match.group(1, 2), match.group(3, 4)))
            spans.sort()
            for (_, end), (start, _) in itertools.pairwise(spans):
                if start < end:
                    raise ValueError(f"{day}: the periods {', '.join(periods)} overlap")
        if value is not None and not any(value.values()):
            raise ValueError("business hours need at least one working period")
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for day in value:
            try:
                if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day):
                    raise ValueError(day)
                dt.date.fromisoformat(day)
            except ValueError:
                raise ValueError(f"{day!r} is not a date; use YYYY-MM-DD") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone such as Europe/Berlin") from None
        return value

    @field_validator("remind_at")
    @classmethod
    def _fractions(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < f < 1 for f in value):
            raise ValueError("reminder points are fractions between 0 and 1, e.g. 0.75")
        return tuple(sorted(value))

    @field_validator("canned")
    @classmethod
    def _canned(cls, value: dict[str, str]) -> dict[str, str]:
        for name, reply in value.items():
            if not re.fullmatch(r"[a-z0-9_\-]{1,32}", name) or not reply.strip():
                raise ValueError(
                    f"canned reply {name!r}: a short name of a-z, 0-9, '_', '-' and a text"
                )
        return value

    @model_validator(mode="after")
    def _unique_topics(self) -> DeskSection:
        keys = [topic.key for topic in self.topics]
        if not keys or len(set(keys)) != len(keys):
            raise ValueError("topics need at least one entry and each key only once")
        return self


class PolicySection(_Section):
    """Server-side rules. Users of these remote domains count as insured persons."""

    insurer_domains: tuple[str, ...] = ()


class OidcSection(_Section):
    """Login through the insurer's identity provider (OpenID Connect), for production. Only
    provisioned accounts can log in: an account is linked to the IdP's subject when it is
    provisioned (`--idp-subject`, `idp_subject` in POST /accounts); Synapse registers nobody
    through the IdP (`enable_registration: false`)."""

    idp_id: str = Field("kasse", pattern=r"^[a-z0-9._~-]{1,40}$")
    idp_name: str = "Anmeldung mit Ihrer Krankenkasse"
    issuer: str
    client_id: str
    client_secret_path: str  # a file with the client secret (mode 0600), never inline
    scopes: tuple[str, ...] = ("openid",)
    subject_claim: str = "sub"
    discover: bool = True
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    jwks_uri: str | None = None
    user_profile_method: Literal["auto", "userinfo_endpoint"] = "auto"
    # only for a test IdP on plain http: Synapse then skips its https/issuer checks
    skip_verification: bool = False
    # keep password logins (bots use appservice logins either way); switch off in production
    password_login: bool = True

    @property
    def synapse_provider_id(self) -> str:
        """Synapse's name for the provider (its external ids are stored under it)."""
        return f"oidc-{self.idp_id}"

    @model_validator(mode="after")
    def _endpoints(self) -> OidcSection:
        if not self.discover:
            missing = [name for name in ("authorization_endpoint", "token_endpoint")
                       if getattr(self, name) is None]  # fmt: skip
            if self.user_profile_method == "userinfo_endpoint" and self.userinfo_endpoint is None:
                missing.append("userinfo_endpoint")
            if missing:
                raise ValueError(f"with discover: false, set {', '.join(missing)}")
        return self


class LoggingSection(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class SecretsSection(_Section):
    as_token_path: str | None = None
    hs_token_path: str | None = None
    registration_shared_secret_path: str | None = None
    pickle_key_path: str | None = None
    kvnr_key_path: str | None = None
    admin_password_path: str | None = None
    admin_api_token_path: str | None = None


class MessengerConfig(_Section):
    homeserver: HomeserverSection = HomeserverSection()
    appservice: AppserviceSection = AppserviceSection()
    database: DatabaseSection = DatabaseSection()
    bots: BotsSection = BotsSection()
    accounts: AccountsSection = AccountsSection()
    default_language: Literal["de", "en"] = "de"
    insurer: InsurerSection = InsurerSection()
    chat_requests: ChatRequestsSection = ChatRequestsSection()
    policy: PolicySection = PolicySection()
    retention: RetentionSection = RetentionSection()
    desk: DeskSection = DeskSection()
    oidc: OidcSection | None = None
    logging: LoggingSection = LoggingSection()
    secrets: SecretsSection = SecretsSection()

    @model_validator(mode="after")
    def _scaled_on_postgres(self) -> MessengerConfig:
        url = self.database.url or ""
        if self.homeserver.scaled is not None and not url.startswith("postgresql+asyncpg://"):
            raise ValueError(
                "homeserver.scaled needs our own database on PostgreSQL too: set database.url "
                "to postgresql+asyncpg://USER@HOST:PORT/NAME"
            )
        return self

    @property
    def desk_name(self) -> str:
        """How the desk bot is shown: the insurer's name unless configured otherwise."""
        return self.bots.desk.display_name or self.insurer.name

    def bot_user_id(self, bot: BotSection) -> UserID:
        return user_id(
            self.appservice.namespace_prefix + bot.localpart, self.homeserver.server_name
        )


def example_config_text() -> str:
    """The packaged, commented example configuration."""
    packaged = resources.files("messenger").joinpath("_data/messenger.example.yaml")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_tree = Path(__file__).resolve().parent.parent / "config" / "messenger.example.yaml"
    return source_tree.read_text(encoding="utf-8")


def _format_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"invalid configuration in {source}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against config/messenger.example.yaml)"
        elif item["type"] == "literal_error":
            message = f"not allowed; {message[0].lower()}{message[1:]}"
        given = item.get("input")
        shown = (
            ""
            if item["type"] == "extra_forbidden" or isinstance(given, dict)
            else f" (got {given!r})"
        )
        lines.append(f"  {key}: {message}{shown}")
    return "\n".join(lines)


def parse_config(raw: object, source: str = "config") -> MessengerConfig:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"invalid configuration in {source}: the top level must be a mapping of keys"
        )
    try:
        return MessengerConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_format_validation_error(error, source)) from None


def load_config(path: Path) -> MessengerConfig:
    if not path.exists():
        raise ConfigError(f"no configuration at {path}; run `messenger init` first")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None
    return parse_config(raw, str(path))
