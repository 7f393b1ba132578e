"""The AWS runner: port backends on AWS services, Lambda handlers and Step Functions definitions.

- :mod:`.backends` — StateStore (DynamoDB), ObjectStore (S3, SSE-KMS), SecretStore (Secrets Manager + KMS),
  Queue (SQS) and settings in SSM Parameter Store.
- :mod:`.ratelimit` — a token bucket per (seller, operation) shared by every Lambda through DynamoDB.
- :mod:`.statemachine` — the Step Functions definitions (ASL), declared as Python data.
- :mod:`.handlers` — thin Lambda entry points.
"""
