"""The API's knobs, on top of the shared settings (`JEDEL_API__…`)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator

from shared.settings import Settings


class ApiOptions(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    default_page_size: int = Field(default=100, ge=1)
    max_page_size: int = Field(default=1000, ge=1)
    # A health check that waits for a connect timeout tells the orchestrator nothing in time.
    health_timeout_s: float = Field(default=2.0, gt=0)
    # How long an answer to an offer waits for the mobilizer's decision before it is reported as
    # queued (202); the answer is decided all the same. 0 answers 202 at once.
    answer_wait_s: float = Field(default=5.0, ge=0, le=30)
    answer_poll_interval_s: float = Field(default=0.1, gt=0, le=5)
    # Connecting to or publishing on the broker; past it the answer is refused (503), not lost.
    publish_timeout_s: float = Field(default=5.0, gt=0)
    # A live stream says something this often even when nothing happens (proxies close silent
    # connections), and checks then that its session still holds.
    live_keepalive_s: float = Field(default=15.0, gt=0, le=60)
    # A stream ends after this long and the browser opens it again, signing in afresh (so a
    # stream never outlives the access token it was opened with by much).
    live_max_s: float = Field(default=600.0, gt=0)
    # What the SMS gateway sends as `Authorization: Bearer …` with the replies it receives
    # (`POST /api/v1/sms/inbound`); unset, the webhook answers 503 and no reply is taken.
    sms_inbound_token: SecretStr | None = None

    @model_validator(mode="after")
    def _default_page_fits_the_maximum(self) -> Self:
        if self.default_page_size > self.max_page_size:
            raise ValueError(
                f"default_page_size {self.default_page_size} is larger than "
                f"max_page_size {self.max_page_size}"
            )
        return self


class AuthOptions(BaseModel):
    """Sign-in and sessions (`JEDEL_AUTH__…`)."""

    access_token_minutes: int = Field(default=15, ge=1, le=60)
    # A sign-in lasts this long unless revoked; the access token is renewed within it.
    staff_session_hours: int = Field(default=12, ge=1)
    volunteer_session_days: int = Field(default=30, ge=1)
    code_ttl_s: int = Field(default=300, ge=30)
    code_max_tries: int = Field(default=5, ge=1)
    # Codes asked for one phone, and sign-in attempts of one username, per window.
    codes_per_phone: int = Field(default=3, ge=1)
    sign_ins_per_username: int = Field(default=5, ge=1)
    # Everything sign-in related from one address (codes asked, codes tried, passwords tried).
    attempts_per_address: int = Field(default=30, ge=1)
    window_s: int = Field(default=900, ge=60)
    # Cookies only over HTTPS; production forces it.
    secure_cookies: bool = False
    # Development: the code is written to the API's log; otherwise the notifier texts it.
    log_codes: bool = True


class ApiSettings(Settings):
    api: ApiOptions = Field(default_factory=ApiOptions)
    auth: AuthOptions = Field(default_factory=AuthOptions)

    @model_validator(mode="after")
    def _production_sends_codes_over_https(self) -> Self:
        if self.environment == "production" and (
            self.auth.log_codes or not self.auth.secure_cookies
        ):
            raise ValueError(
                "production needs JEDEL_AUTH__LOG_CODES=false and JEDEL_AUTH__SECURE_COOKIES=true"
            )
        return self
