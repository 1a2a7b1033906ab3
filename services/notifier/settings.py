"""The notifier's knobs, on top of the shared settings (`JEDEL_NOTIFIER__…`)."""

from __future__ import annotations

from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator

from shared.settings import DEVELOPMENT_SECRET, Settings

ChannelName = Literal["sms", "in_app"]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class NotifierOptions(BaseModel):
    group_id: str = "jedel-notifier"
    # Offers (and stand-downs) being notified at once: each mostly waits for its gateway, so a
    # wave's offers go out side by side, not one gateway round trip after another. One offer's
    # events keep their order (its offer before its stand-down).
    concurrency: int = Field(default=32, ge=1, le=256)
    # Records taken from `mobilization.v1` in one fetch.
    batch_size: int = Field(default=500, ge=1, le=5000)
    # Each offer goes through all of them at once. Unset: SMS (when a gateway is configured) and
    # in-app.
    channels: tuple[ChannelName, ...] | None = None
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    sms_timeout_s: float = Field(default=5.0, gt=0)
    # Where the answer links in offers point (`{public_url}/r/{offer_id}`); keep it short, it is
    # paid for in SMS segments.
    public_url: str = "http://127.0.0.1:8000"
    inbox_key_prefix: str = "jedel:inbox:"
    inbox_keep: int = Field(default=100, ge=1)
    inbox_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    # A channel that is unavailable (gateway 5xx, timeouts, Redis away) is not retried in place:
    # the notification waits in `notification_retries` and the next messages go on. It is tried
    # again after a delay doubling from `send_retry_base_s` up to `send_retry_cap_s` (jittered to
    # half to all of it), and reported `failed` after `max_send_attempts`, or once its offer closed.
    max_send_attempts: int = Field(default=8, ge=1)
    send_retry_base_s: float = Field(default=2.0, gt=0)
    send_retry_cap_s: float = Field(default=120.0, gt=0)
    # The retry loop: how often it looks, how many it takes per channel (and sends at once), and
    # how long one being sent is kept from other workers (longer than a send can take).
    retry_poll_s: float = Field(default=1.0, gt=0)
    retry_batch: int = Field(default=100, ge=1)
    retry_concurrency: int = Field(default=8, ge=1)
    retry_lease_s: float = Field(default=60.0, gt=0)
    # A channel's circuit opens after this many failures in a row: nothing is sent through it (all
    # waits in the retry table) until, after the cool-down, one try succeeds.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cool_down_s: float = Field(default=30.0, gt=0)
    # A message that keeps failing for another reason is dead-lettered after this many tries.
    max_attempts: int = Field(default=5, ge=1)
    retry_backoff_s: float = Field(default=0.5, ge=0)
    # A stand-down older than this is not sent (a replay after a long outage).
    stand_down_max_age_s: int = Field(default=6 * 3600, ge=60)

    @property
    def enabled_channels(self) -> tuple[ChannelName, ...]:
        if self.channels is not None:
            return self.channels
        return ("sms", "in_app") if self.sms_gateway_url else ("in_app",)

    @model_validator(mode="after")
    def _channels_are_usable(self) -> Self:
        channels = self.enabled_channels
        if not channels:
            raise ValueError("at least one notification channel must be enabled")
        if len(set(channels)) != len(channels):
            raise ValueError(f"a channel is listed twice: {channels}")
        if "sms" in channels and not self.sms_gateway_url:
            raise ValueError("the sms channel needs JEDEL_NOTIFIER__SMS_GATEWAY_URL")
        if self.send_retry_cap_s < self.send_retry_base_s:
            raise ValueError("send_retry_cap_s must not be below send_retry_base_s")
        if self.retry_lease_s <= 2 * self.sms_timeout_s:
            raise ValueError("retry_lease_s must be longer than two SMS timeouts")
        if urlsplit(self.public_url).scheme not in ("http", "https"):
            raise ValueError(f"public_url must be an http(s) URL, not {self.public_url!r}")
        return self


class NotifierSettings(Settings):
    notifier: NotifierOptions = Field(default_factory=NotifierOptions)

    @model_validator(mode="after")
    def _refuse_development_values_in_production(self) -> Self:
        if self.environment != "production":
            return self
        options = self.notifier
        if (
            "sms" in options.enabled_channels
            and options.sms_gateway_token.get_secret_value() == DEVELOPMENT_SECRET
        ):
            raise ValueError("JEDEL_NOTIFIER__SMS_GATEWAY_TOKEN must be set in production")
        if urlsplit(options.public_url).hostname in LOOPBACK_HOSTS:
            raise ValueError("JEDEL_NOTIFIER__PUBLIC_URL must be the public address in production")
        return self
