"""The AWS adapters of the ports (crisiswatch.ports): the only code that speaks boto3.

DynamoDB (`posts`, `baselines`, `incidents`, `cursors`, `watches`, `stories`, with `items` for attribute values), Step
Functions (`workflow`), SNS (`alerts`), SQS (`queues`), Secrets Manager (`secrets`). Each translates
its service's errors into the ports' domain exceptions. Import the module you need: a function
loads only the adapters it uses.
"""
