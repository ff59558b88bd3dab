"""The whole stack on one machine, without Docker: `sam local start-api` for this project, arranged by what it
emulates.

- `moto/`: AWS's services (DynamoDB, S3, Cognito) as moto's server, adapted for a long-running concurrent stack,
  each adaptation in a module with its reason, and its state kept on disk.
- `apigateway/`: the REST API's stand-in: the HTTP edge, the routes and Gateway Responses, the Cognito authorizer,
  and the proxy events it hands to the functions.
- `lambda_service/`: the functions' execution environments: each invocation runs the real handler in a container
  of its function (a process of its own, with its own module state), started on demand, reused while warm.
- the command: `python -m embedded_stack` (`make run`, `__main__`), `stack` (starts and stops it all),
  `provision` (the catalog's resources, as the Pulumi program declares them), `walkthrough`, `admin`.
"""
