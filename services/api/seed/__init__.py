"""Seeding of the tables the API owns: reference geography and a synthetic volunteer population.

`seed_volunteers` replaces the whole synthetic population (volunteers, certifications, mobile
groups); see `writer` for what that truncates.
"""

from services.api.seed.writer import (
    MissingReferenceDataError,
    SeedReport,
    seed_reference,
    seed_volunteers,
)

__all__ = ["MissingReferenceDataError", "SeedReport", "seed_reference", "seed_volunteers"]
