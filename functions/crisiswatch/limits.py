"""Every limit on what enters the system, in one place (docs/limits.md says why each is what it is).

A payload over a limit is refused with a reason (API: a 4xx) or, in the pipeline, cut or dropped,
logged and counted with its reason: nothing is lost silently.
"""

from __future__ import annotations

# -- API requests and watches (crisiswatch.api, crisiswatch.vocabulary.Watch) ---------------------

# Request bodies, in UTF-8 bytes as API Gateway hands them over (over the limit: 413).
# A watch: the stored maximum (WATCH_MAX_STORED_BYTES) twice over, room for JSON's \uXXXX escapes
# (6 bytes for a 3-byte CJK character).
WATCH_BODY_MAX_BYTES = 128 * 1024
# Every other body (ack, statement, resolve): the biggest, a statement, is 5,000 characters of text.
API_BODY_MAX_BYTES = 32 * 1024
# Brackets open at once (422): a watch needs 5 (watch > oncall > tiers > tier > notify); 20 leaves
# room and stays far below the depth at which a recursive parser or serializer blows the stack.
JSON_MAX_DEPTH = 20
# Characters of one JSON number (422): no field needs more than a timeout in seconds; a longer one
# would reach Python's 4,300-digit int limit (ValueError) or DynamoDB's 38 digits (ValidationException).
JSON_MAX_NUMBER_CHARS = 20

# Watches (422 with the field, except the count: 409).
MAX_WATCHES = 1000  # per deployment: every scheduler tick reads them all and queues one job per platform
WATCH_NAME_MAX_CHARS = 100  # a brand, product or person's name, shown in every alert
# One platform search (at least one request) per keyword per tick, within the fetcher's 60 s.
WATCH_MAX_KEYWORDS = 50
KEYWORD_MAX_CHARS = 50  # a search query: platforms cut longer ones anyway
WATCH_MAX_EXCLUDE = 200  # matched locally (a substring scan of each post each): homonyms, jobs, ads
EXCLUDE_MAX_CHARS = 50
WATCH_MAX_BRAND_TERMS = 50  # added to jieba's dictionary of every scorer that sees the watch
BRAND_TERM_MAX_CHARS = 30
RULE_MAX_CHARS = 2000  # one rule expression (per platform); the parser is linear and nests at most 50
ONCALL_MAX_NAMES_PER_TIER = 20  # subscribers or chat bots told at one tier
ONCALL_NAME_MAX_CHARS = 40  # the subscribers' and chat bots' own name pattern allows 40
ACK_TIMEOUT_MAX_SECONDS = 24 * 3600  # a tier that has not answered in a day has not answered
# The stored watch, serialized JSON in UTF-8 (422): DynamoDB's item limit is 400 KB, and every fetch
# job carries its watch: 10 jobs (one SQS batch) of 64 KB stay under SQS's 1 MiB per batch; the
# scheduler reads every watch every tick (1,000 x 64 KB at most).
WATCH_MAX_STORED_BYTES = 64 * 1024


# -- the pipeline: pushed batches and posts, platform responses (crisiswatch.ingest, scoring) ------
