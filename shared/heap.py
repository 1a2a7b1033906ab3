"""The garbage collector, tuned for a long-running service.

CPython's cyclic collector walks every tracked object of a generation when it collects it. A
service's heap after start-up (SQLAlchemy, pydantic, FastStream, the playbooks, the regions) is
a couple of million objects that live as long as the process; each full collection walked them
all (~180 ms in the mobilizer, stalling whatever wave was in hand), and the young collections,
every 700 allocations by default, ran a few times per wave. Once started, a service freezes what
it holds (`gc.freeze`: never walked again) and collects its young objects less often: most of
what a message allocates dies with it by reference count, and the rest is collected all the same.
"""

from __future__ import annotations

import gc

# Allocations (net of deallocations) between two young collections; CPython's default is 700.
YOUNG_THRESHOLD = 10_000
# Young collections between two middle ones, and middle ones between two full ones (10 and 10).
OLDER_THRESHOLD = 20


def settle() -> None:
    """Collect once, freeze everything that survived start-up, and collect less often from now
    on. For a service's own process (`jedel run`), once it has started; not for a process that
    starts and stops services many times (tests), whose frozen garbage would stay."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
