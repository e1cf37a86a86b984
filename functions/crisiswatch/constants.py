"""One source of truth for names, limits and defaults.

The CDK app (infra/), the Lambda handlers and the embedded local runtime all import this module, so
the deployed stack, the local stack and the tests cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICE = "crisiswatch"
STACK_NAME = "CrisisWatch"
METRICS_NAMESPACE = "CrisisWatch"
LAMBDA_RUNTIME = "python3.12"


@dataclass(frozen=True)
class FunctionSpec:
    construct_id: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    needs_nlp: bool = False  # attach the jieba + snownlp layer


FUNCTIONS: dict[str, FunctionSpec] = {
    "scheduler": FunctionSpec("Scheduler", "crisiswatch.handlers.scheduler.lambda_handler", 30, 256),
    "fetcher": FunctionSpec("Fetcher", "crisiswatch.handlers.fetcher.lambda_handler", 60, 256),
    "scorer": FunctionSpec("Scorer", "crisiswatch.handlers.scorer.lambda_handler", 60, 1024, needs_nlp=True),
    "notifier": FunctionSpec("Notifier", "crisiswatch.handlers.notifier.lambda_handler", 30, 256),
    "api": FunctionSpec("Api", "crisiswatch.handlers.api.lambda_handler", 29, 512),
    "push": FunctionSpec("Push", "crisiswatch.handlers.push.lambda_handler", 10, 256),
}

# X-Ray, per function. Lambda samples an Active function's invocations itself (the first each second
# and 5% of the rest; X-Ray's sampling rules do not apply to it), so at our volumes every one is a
# trace ($5 a million). Active where a person waits on the answer or a page goes out (the API, a
# push, the escalation's notifier). The monitoring pipeline passes through: its ticks, fetch jobs
# and batches are measured by metrics and structured logs, a trace of each would cost more than
# the post it carries; SQS carries a sender's trace header, so a push's posts are traced through
# the scorer. Context `tracing` turns any of them on (docs/infra.md).
TRACING: dict[str, str] = {
    "scheduler": "passthrough",
    "fetcher": "passthrough",
    "scorer": "passthrough",
    "notifier": "active",
    "api": "active",
    "push": "active",
}

# SQS: a message is retried this many times before it goes to the dead-letter queue.
DLQ_MAX_RECEIVE_COUNT = 5
# AWS advice for Lambda consumers: visibility timeout >= 6x the function timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
FETCH_JOBS_BATCH_SIZE = 5
POSTS_BATCH_SIZE = 25
POSTS_BATCHING_WINDOW_SECONDS = 5
# Fetchers per platform at once (each platform has its own fetch-jobs queue and this cap on its
# event source): a platform's rate limit holds however many watches there are.
FETCHER_MAX_CONCURRENCY = 2
DLQ_RETENTION_DAYS = 14

POST_TTL_DAYS = 90
BUCKET_TTL_DAYS = 30
# How long the story index remembers a story's founding text and the story of an original its
# reposts preceded (from first written). A stored post keeps its own story while it is stored
# (POST_TTL_DAYS): a repost of it joins that story, whose new burst opens a new incident.
STORY_TTL_DAYS = 7

# A fetch job pages back to its cursor (the newest post time already queued) minus an overlap,
# so posts the platform indexes late are still found (duplicates are stored once); a job with no
# cursor yet pages back the lookback. At most this many pages per keyword (a burst can bring
# hundreds of posts between runs).
FETCH_OVERLAP_MINUTES = 10
FETCH_LOOKBACK_MINUTES = 60
FETCH_MAX_PAGES = 20
# Platform credentials (Secrets Manager) are read again after this long, so a rotated cookie or key
# is picked up without a deploy.
CREDENTIALS_MAX_AGE_SECONDS = 300
# Leave this much of the fetcher's time for queueing what was fetched.
FETCH_TIME_MARGIN_SECONDS = 10
# One fetch job's share of an invocation: past it, the keywords left go back on the fetch queue as
# a continuation job, so a big watch neither times the batch out nor holds the tick's other jobs.
FETCH_JOB_SECONDS = 20

# Every platform an adapter serves (crisiswatch.ingest.adapters registers one each): a watch's
# platforms and the keys of its rules are among these.
PLATFORMS = ("weibo", "bilibili", "news", "douyin", "xiaohongshu")

# Where each platform's adapter sends its requests (context `baseUrls` overrides or adds).
DEFAULT_BASE_URLS: dict[str, str] = {"weibo": "https://m.weibo.cn", "bilibili": "https://api.bilibili.com"}

# Default schedule per platform (EventBridge rate expressions, minutes).
DEFAULT_SCHEDULES_MINUTES: dict[str, int] = {"weibo": 2}

# Seconds to wait for an acknowledgement before escalating one tier up (blue needs none).
DEFAULT_ACK_TIMEOUT_SECONDS: dict[str, int] = {"yellow": 2 * 3600, "orange": 30 * 60, "red": 10 * 60}
# The crisis-PR clocks, counted from the moment an incident reaches orange or red.
FIRST_STATEMENT_SECONDS = 30 * 60
DETAILED_STATEMENT_SECONDS = 2 * 3600
PROGRESS_REPORT_SECONDS = 24 * 3600
# Each clock reminds the tier that owns it this long before it is due.
REMIND_BEFORE_SECONDS = 10 * 60

# Timers (EventBridge Scheduler one-time schedules): how long and how often Scheduler retries
# invoking the target before the event goes to the timers' dead-letter queue.
TIMER_MAX_RETRY_ATTEMPTS = 5
TIMER_MAX_EVENT_AGE_SECONDS = 3600

SMS_MAX_CHARS = 70
# How often the scorer's quiet sweep runs: resolving incidents of watches that get no posts at all.
SWEEP_MINUTES = 10
# The sweep's heartbeat: a watch that usually sees posts and has seen none for this long is silent
# (context `heartbeatSilentMinutes`): two hours, long enough that a busy watch's lull is not one.
DEFAULT_HEARTBEAT_SILENT_MINUTES = 120
# At least three sweeps; at most a day (a busy watch's buckets of the span are read every sweep).
HEARTBEAT_SILENT_MINUTES_RANGE = (3 * SWEEP_MINUTES, 24 * 60)

# Push endpoint (providers that push posts, signed with HMAC-SHA256 over a shared secret); its body
# limits are in crisiswatch.limits.
PUSH_SIGNATURE_TOLERANCE_SECONDS = 300  # a timestamp older or newer than this is a replay
PUSH_SECRET_MAX_AGE_SECONDS = 300  # how long a warm function caches the shared secret


class Env:
    """Environment variable names the CDK app sets and the handlers read."""

    POSTS_TABLE = "POSTS_TABLE"
    INCIDENTS_TABLE = "INCIDENTS_TABLE"
    STATE_TABLE = "STATE_TABLE"
    FETCH_QUEUE_URLS = "FETCH_QUEUE_URLS"  # JSON {platform: queue URL}: one queue per platform
    POSTS_QUEUE_URL = "POSTS_QUEUE_URL"
    ALERTS_TOPIC_ARN = "ALERTS_TOPIC_ARN"
    ESCALATION_STATE_MACHINE_ARN = "ESCALATION_STATE_MACHINE_ARN"
    PLATFORM_BASE_URLS = "PLATFORM_BASE_URLS"  # JSON {platform: base URL}
    PLATFORM_SECRETS = "PLATFORM_SECRETS"  # JSON {platform: Secrets Manager name of its request headers}
    HTTP_TIMEOUT_SECONDS = "HTTP_TIMEOUT_SECONDS"
    ACK_TIMEOUT_SECONDS = "ACK_TIMEOUT_SECONDS"  # JSON {"yellow": s, "orange": s, "red": s}
    LEVEL_THRESHOLDS = "LEVEL_THRESHOLDS"  # JSON, see crisiswatch.incidents.policy
    CONSOLE_URL = "CONSOLE_URL"  # shown in alert e-mails; optional
    PUSH_SECRET_NAME = "PUSH_SECRET_NAME"  # Secrets Manager name of the push endpoint's HMAC secret
    SUBSCRIBERS = "SUBSCRIBERS"  # JSON [{"name", "levels", "watches"}]: who the default on-call policy tells
    CHAT_BOTS = "CHAT_BOTS"  # JSON [ChatBotConfig + "levels", "watches"]
    CLOCK_SECONDS = "CLOCK_SECONDS"  # JSON {"first", "detailed", "progress", "remind_before"}
    HEARTBEAT_SILENT_MINUTES = "HEARTBEAT_SILENT_MINUTES"  # see DEFAULT_HEARTBEAT_SILENT_MINUTES
    TIMER_GROUP = "TIMER_GROUP"  # EventBridge Scheduler schedule group of the timers
    TIMER_TARGET_ARN = "TIMER_TARGET_ARN"  # the Lambda a due timer invokes (the notifier)
    TIMER_ROLE_ARN = "TIMER_ROLE_ARN"  # the role Scheduler assumes to invoke it
    TIMER_DLQ_ARN = "TIMER_DLQ_ARN"  # SQS queue of the timer events Scheduler could not deliver


# --- Deployment (read by infra/; the handlers do not need these) --------------------------------
# Ops alarms (infra/constructs/observability.py; docs/infra.md lists what to do when one fires).
# A message that failed once waits a visibility timeout (6x its consumer's timeout) and still counts
# as its queue's oldest meanwhile: an age threshold must outlast a retry or every blip pages.
POSTS_MAX_MESSAGE_AGE_SECONDS = 15 * 60  # two retries of a scorer batch (2 x 6 min) and slack: beyond, stuck
FETCH_JOBS_MAX_AGE_PERIODS = 2  # a job still waiting when the tick after next is due: fetchers fall behind
LAMBDA_THROTTLES_PER_5_MINUTES = 1  # no reserved concurrency: a throttle means the account's pool ran out
DYNAMODB_THROTTLES_PER_5_MINUTES = 1  # on-demand throttles a hot key or a doubled peak; SDK retries hide it
PUSH_API_5XX_PER_5_MINUTES = 1  # each 5XX is a batch a provider must resend, and some never do
SILENT_WATCHES_THRESHOLD = 1  # one busy watch silent for heartbeatSilentMinutes: its feed is broken
# Region used when neither CDK_DEFAULT_REGION nor the `region` context is set: Tokyo, close to the
# mainland, outside the separate aws-cn partition, and with SNS SMS delivery to +86 numbers.
DEFAULT_REGION = "ap-northeast-1"
# Placeholder account so `cdk synth` and the template tests run offline without credentials.
DEFAULT_ACCOUNT = "000000000000"
LOG_RETENTION_DAYS = 90
API_STAGE_NAME = "v1"
API_THROTTLE_RATE_LIMIT = 50  # requests per second, steady state
API_THROTTLE_BURST_LIMIT = 100
PUSH_API_THROTTLE_RATE_LIMIT = 20  # the push API's own stage, requests per second
PUSH_API_THROTTLE_BURST_LIMIT = 40
# The push API's WAF rate rule: requests per source IP per window, past which that IP is blocked
# (infra/constructs/push_api.py says why a WAF rule and not a usage plan). Half the stage's rate:
# one flooding address cannot hold the providers' 20 rps for longer than WAF takes to count it.
PUSH_WAF_RATE_LIMIT_PER_IP = 600
PUSH_WAF_WINDOW_SECONDS = 60
# Table layout that the store and the stack must agree on.
TTL_ATTRIBUTE = "expires_at"
INCIDENTS_BY_STATUS_INDEX = "by-status"
DEFAULT_HTTP_TIMEOUT_SECONDS = 10
