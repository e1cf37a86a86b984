"""The incidents REST API (API Gateway, IAM auth) as a Powertools resolver."""
