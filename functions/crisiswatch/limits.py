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
# job carries its watch: a 64 KB job stays well under SQS's 256 KiB per message (the scheduler sends
# each watch's job on its own); the scheduler reads every watch every tick (1,000 x 64 KB at most).
WATCH_MAX_STORED_BYTES = 64 * 1024


# -- the pipeline: pushed batches and posts, platform responses (crisiswatch.ingest, scoring) ------
# Pushed batches (POST /push, crisiswatch.ingest.webhook): over either is a 413 / 422 with its reason.
# The API Gateway / Lambda payload is 6 MB with the body escaped inside the event; 2 MiB leaves room for
# that and holds PUSH_MAX_POSTS posts at POST_TEXT_MAX_CHARS of CJK (100 x 5,000 x 3 bytes = 1.5 MB).
PUSH_MAX_BODY_BYTES = 2 * 1024 * 1024
PUSH_MAX_POSTS = 100  # a provider's page or two; parsed, matched and queued well within the 10 s timeout

# Posts (crisiswatch.vocabulary.Post, the one model every adapter and the push build): text is cut,
# counts are clamped, identifiers are refused (the item is skipped with its reason, or a 422).
# Weibo's long posts show at most ~2,000 characters in the mobile API: 5,000 keeps every real post
# whole and bounds what scoring and storage see. The original length is kept in Post.text_length.
POST_TEXT_MAX_CHARS = 5_000
# Followers, reposts, comments, likes, views (and the magnitude of verified_type): clamped to
# [0, COUNTER_MAX]. Far below DynamoDB's 38 digits, and exact in float64 and JSON (< 2**53).
COUNTER_MAX = 10**15
POST_ID_MAX_CHARS = 256  # post_id, author.id, repost_of: part of DynamoDB keys (2,048 bytes at most)
AUTHOR_NAME_MAX_CHARS = 256  # a display name (Weibo's are 30 at most)
POST_URL_MAX_CHARS = 2_048  # what browsers and CDNs reliably carry

# Platform responses (crisiswatch.ingest adapters): the items of one page past this are dropped,
# logged and counted (PageItemsDropped). Real pages hold 10-50 (a news feed up to 100).
PLATFORM_ITEMS_PER_PAGE_MAX = 200

# SQS (crisiswatch.aws.queues, and the memory queue alike): a body over SQS_MESSAGE_MAX_BYTES is
# refused before anything is sent (QueueMessageTooLarge); batches are cut by count and by bytes.
# 256 KiB: the queues' MaximumMessageSize (set in infra, the classic SQS limit); the same for a whole
# SendMessageBatch request keeps it valid whatever limit the account has.
SQS_MESSAGE_MAX_BYTES = 256 * 1024
SQS_BATCH_MAX_BYTES = 256 * 1024
SQS_BATCH_MAX_MESSAGES = 10  # SQS's own cap on entries per SendMessageBatch
