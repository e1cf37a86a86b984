"""The embedded local AWS: the synthesized template provisioned onto moto, the real handlers run in process."""

ACCOUNT = "123456789012"  # moto's default account
REGION = "ap-northeast-1"
