"""Every limit on what enters the system, in one place (docs/limits.md says why each is what it is).

A payload over a limit is refused with a reason (API: a 4xx) or, in the pipeline, cut or dropped,
logged and counted with its reason: nothing is lost silently.
"""

from __future__ import annotations

# -- API requests and watches (crisiswatch.api, crisiswatch.vocabulary.Watch) ---------------------

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
