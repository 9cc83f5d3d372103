"""Service settings (docs/architecture.md §3): environment variables with the prefix ``ALUETURVA_``, also read from
``.env``."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from alueturva.i18n import Language

DEVELOPMENT_SECRET_KEY = "dev-insecure-change-me"  # accepted only by the local demo (``alueturva.config_check``)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALUETURVA_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///./alueturva.db", description="SQLAlchemy URL: SQLite or postgresql+psycopg")
    redis_url: str | None = Field(None, description="Redis for the RQ job queue; empty means in-process queue")
    queue_name: str = Field("alueturva", description="RQ queue name (lets several installations share one Redis)")
    public_base_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL for acknowledgement links and Twilio signature checks"
    )
    secret_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SECRET_KEY),
        description="Signs acknowledgement links: at least 32 random characters outside the local demo",
    )
    sms_backend: Literal["twilio", "console"] = Field("console", description="twilio, or console (log only)")
    twilio_account_sid: str | None = Field(None, description="Twilio account SID (AC…)")
    twilio_auth_token: SecretStr | None = Field(None, description="Twilio auth token; also verifies webhooks")
    twilio_from: str | None = Field(None, description="Sender number or alphanumeric sender id")
    twilio_messaging_service_sid: str | None = Field(None, description="Messaging Service (MG…) instead of FROM")
    twilio_base_url: str | None = Field(None, description="Overrides https://api.twilio.com (tests, benchmarks)")
    sms_rate_per_second: float = Field(50.0, gt=0, description="One send rate for all workers together")
    voice_backend: Literal["twilio", "console"] = Field(
        "console", description="Voice calls: twilio (Programmable Voice, the same account), or console (demo outbox)"
    )
    twilio_voice_from: str | None = Field(
        None, description="The number calls come from (a Twilio number); unset: TWILIO_FROM"
    )
    voice_calls_per_second: float = Field(
        1.0, gt=0, le=100, description="Calls started per second, all workers together (Twilio's CPS: 1 by default)"
    )
    voice_ring_seconds: int = Field(
        30, ge=5, le=600, description="How long a call rings before it counts as unanswered"
    )
    email_backend: Literal["smtp", "console"] = Field("console", description="smtp, or console (log only)")
    smtp_host: str = Field("localhost", description="SMTP server")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port (587 with STARTTLS)")
    smtp_user: str | None = Field(None, description="SMTP user name, if the server wants a login")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS")
    email_from: str = Field("alueturva@localhost", description="From address of alert emails")
    default_language: Language = Field("fi", description="Language for people and pages with no preference")
    duty_officer_phone: str | None = Field(
        None, description="The duty officer's phone number, given in replies that tell people to call them"
    )
    delivery_claim_lease_seconds: float = Field(
        60.0, gt=0, description="How long a worker owns a claimed delivery before the sweeper may hand it on"
    )
    delivery_requeue_after_seconds: float = Field(
        30.0,
        gt=0,
        description="A queued delivery not picked up for this long is enqueued again by the sweeper",
    )
    delivery_max_attempts: int = Field(6, ge=1, le=50, description="Provider attempts before a delivery fails")
    delivery_retry_base_seconds: float = Field(2.0, gt=0, description="First retry delay; doubles per attempt")
    delivery_retry_max_seconds: float = Field(300.0, gt=0, description="Longest retry delay")
    alert_sweep_interval_seconds: float = Field(5.0, gt=0, description="How often the alerting sweeper runs")
    alert_chunk_size: int = Field(
        1000,
        ge=1,
        le=10_000,
        description="A large alert's people are made recipients this many at a time, after its first batch is sent",
    )
    send_batch_size: int = Field(250, ge=1, le=1000, description="Deliveries handled by one send job")
    send_concurrency: int = Field(64, ge=1, le=256, description="Provider requests in flight per send job")
    sms_max_segments: int = Field(6, ge=1, le=20, description="Longest SMS allowed, in segments")
    console_receipt_seconds: float = Field(
        2.0,
        ge=0,
        le=3600,
        description="The console SMS backend's delivery receipt comes this long after sending (at the scheduler's next "
        "sweep), as a provider's would",
    )
    drill_start_grace_seconds: float = Field(
        900.0, ge=0, description="A scheduled drill start missed by less than this runs late; beyond it, is 'missed'"
    )
    drill_tick_seconds: float = Field(5.0, gt=0, description="How often the scheduler starts and ends drills")
    ack_token_max_age_seconds: int = Field(
        7 * 24 * 3600, gt=0, description="How long an acknowledgement link stays valid"
    )
    web_session_idle_minutes: float = Field(
        60.0, gt=0, le=24 * 60, description="A web console session not used for this long ends"
    )
    web_session_max_hours: float = Field(
        12.0, gt=0, le=7 * 24, description="A web console session ends this long after sign-in, however used"
    )
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="SMTP connect and command timeout")
    twilio_timeout_seconds: float = Field(10.0, gt=0, description="Twilio API request timeout")
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token for /metrics; unset: /metrics answers loopback clients only"
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1", description="Reverse proxies whose X-Forwarded-For is trusted (comma-separated, or *)"
    )
    auth_failures_per_minute: int = Field(20, ge=1, description="Failed API-key authentications per client address")
    link_attempts_per_minute: int = Field(10, ge=1, description="Acknowledgement link submissions per link")
    link_failures_per_minute: int = Field(30, ge=1, description="Invalid acknowledgement links per client address")
    login_failures_per_minute: int = Field(
        10, ge=1, description="Failed console sign-ins per client address; past it 429 before any password is checked"
    )
    login_account_failures_per_minute: int = Field(
        5, ge=1, description="Failed console sign-ins per email from one client address; past it 429 likewise"
    )
    login_account_slowdown_per_minute: int = Field(
        20, ge=1, description="Failed console sign-ins per email from every address before each sign-in waits"
    )
    login_slowdown_seconds: float = Field(
        2.0, ge=0, le=30, description="How long a sign-in to an email past its slowdown limit waits (holding no thread)"
    )
    password_hashing_threads: int = Field(
        2, ge=1, le=16, description="Threads that may check console passwords (argon2) at once"
    )
    webhook_failures_per_minute: int = Field(20, ge=1, description="Webhooks with a bad signature per client address")

    @field_validator("duty_officer_phone")
    @classmethod
    def _phone_number(cls, value: str | None) -> str | None:
        """Any number that can be called (a landline too), written as people read it: +358 6 828 9100."""
        if value is None or not value.strip():
            return None
        import phonenumbers

        try:
            number = phonenumbers.parse(value, "FI")
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"'{value}' is not a phone number") from exc
        if not phonenumbers.is_valid_number(number):
            raise ValueError(f"'{value}' is not a valid phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        """Cookies travel only over TLS when people reach the service at an https address."""
        return self.public_base_url.lower().startswith("https://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
