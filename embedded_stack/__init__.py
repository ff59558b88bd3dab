"""The whole stack on one machine, without Docker: moto's server for the AWS side, and a local stand-in for
API Gateway that turns HTTP into the REST proxy event, enforces the Cognito authorizer and calls the real
handlers in-process — `sam local start-api` without Docker.
"""
