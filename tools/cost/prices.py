"""The one price table `make cost` uses: AWS on-demand list prices, us-east-1, in USD.

Sources (the service's public pricing page, us-east-1, on the date below):
https://aws.amazon.com/dynamodb/pricing/on-demand/ (the on-demand prices of the 2024-11-01 cut),
https://aws.amazon.com/lambda/pricing/, https://aws.amazon.com/sqs/pricing/,
https://aws.amazon.com/sns/pricing/, https://aws.amazon.com/step-functions/pricing/,
https://aws.amazon.com/eventbridge/pricing/ (Scheduler), https://aws.amazon.com/secrets-manager/pricing/,
https://aws.amazon.com/cloudwatch/pricing/, https://aws.amazon.com/xray/pricing/,
https://aws.amazon.com/kms/pricing/, https://aws.amazon.com/waf/pricing/.

The stack deploys to ap-northeast-1 (Tokyo) by default (`constants.DEFAULT_REGION`), where most of
these are 10-30% higher; the targets of issue 10 are stated in us-east-1 prices, so this table is.

Per request or per unit (`USAGE`): what a stored post costs. Per month (`MONTHLY`): what the
stack costs whatever the volume, listed apart, never divided by posts. Free tiers are left out
(they do not scale), as are KMS requests (DynamoDB and SQS cache each data key; SQS uses SSE-SQS,
which makes none) and data transfer (in is free; out is the alerts and the API's answers).
"""

from __future__ import annotations

PRICES_AS_OF = "2026-12-02"
REGION = "us-east-1"
MILLION = 1_000_000

# -- per use -----------------------------------------------------------------------------------
DYNAMODB_WRITE_REQUEST_UNIT = 0.625 / MILLION  # on-demand, standard table class
DYNAMODB_READ_REQUEST_UNIT = 0.125 / MILLION
SQS_REQUEST = 0.40 / MILLION  # standard queue; each 64 KB chunk of a payload is one request
SNS_PUBLISH = 0.50 / MILLION  # standard topic; each 64 KB chunk of a payload is one request
LAMBDA_REQUEST = 0.20 / MILLION
LAMBDA_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}  # first tier of each
STEP_FUNCTIONS_TRANSITION = 25.0 / MILLION  # standard workflows
SCHEDULER_INVOCATION = 1.0 / MILLION  # EventBridge Scheduler; creating and deleting schedules is free
SECRETS_MANAGER_CALL = 0.05 / 10_000
CLOUDWATCH_LOGS_INGESTED_GB = 0.50  # standard log class; Step Functions' vended logs: same first tier
XRAY_TRACE_RECORDED = 5.0 / MILLION

# Deliveries: per alert, not per post (reported apart, never in $ per post).
SNS_EMAIL_DELIVERY = 2.0 / 100_000
SNS_SMS_DELIVERY_NOTE = "SMS: per message, by destination country (China +86: see the SNS SMS price list)"

# Storage: per stored post, but per month held, so reported apart (see tools/cost/report.py).
DYNAMODB_STORAGE_GB_MONTH = 0.25
DYNAMODB_PITR_GB_MONTH = 0.20

# -- per month, whatever the volume ------------------------------------------------------------
MONTHLY = {
    "CloudWatch alarm (standard resolution)": 0.10,
    "CloudWatch custom metric (first 10,000)": 0.30,
    "KMS customer managed key": 1.00,
    "Secrets Manager secret": 0.40,
    "WAF web ACL": 5.00,
    "WAF rule": 1.00,
}

# The services the meter prices per use, in the order the report lists them.
SERVICES = (
    "dynamodb",
    "sqs",
    "sns",
    "lambda",
    "stepfunctions",
    "scheduler",
    "secretsmanager",
    "logs",
    "xray",
)
