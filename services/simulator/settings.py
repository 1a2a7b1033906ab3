"""The volunteer simulator's knobs (`JEDEL_SIMULATOR__…`): how people answer call-outs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.settings import Settings


class SimulatorOptions(BaseModel):
    group_id: str = "jedel-simulator"
    # Where the simulated phones tap their answer links.
    api_url: str = "http://127.0.0.1:8000"
    # Each simulated volunteer's chance to accept is drawn from Beta(a, b): mean a / (a + b).
    # Published acceptance rates for responder apps run from about 5 % to 47 %; the demo leans
    # to the upper end so a group completes while you watch.
    accept_alpha: float = Field(default=2.0, gt=0)
    accept_beta: float = Field(default=3.0, gt=0)
    # Share of people who never answer (phone in a pocket, no signal): their offers time out.
    silent_share: float = Field(default=0.25, ge=0, le=1)
    # Answer delay: lognormal with this median, compressed by `time_scale` for the demo.
    median_answer_s: float = Field(default=90.0, gt=0)
    answer_sigma: float = Field(default=0.8, ge=0)
    time_scale: float = Field(default=0.1, gt=0, le=1)
    seed: int = 2026


class SimulatorSettings(Settings):
    simulator: SimulatorOptions = Field(default_factory=SimulatorOptions)
