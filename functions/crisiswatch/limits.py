"""Every limit on what enters the system, in one place (docs/limits.md says why each is what it is).

A payload over a limit is refused with a reason (API: a 4xx) or, in the pipeline, cut or dropped,
logged and counted with its reason: nothing is lost silently.
"""

from __future__ import annotations

# -- API requests and watches (crisiswatch.api, crisiswatch.vocabulary.Watch) ---------------------

# -- the pipeline: pushed batches and posts, platform responses (crisiswatch.ingest, scoring) ------
