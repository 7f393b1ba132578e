"""AWS adapters shared by the domain packages and the AWS runner (boto3 clients, the SQS queue backend).

They sit below the domain packages: ``notifications`` may use them, ``runners/aws`` builds on them, and
nothing here imports a domain package or the runner."""
