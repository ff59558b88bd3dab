"""A local stand-in for the API Gateway REST API the Pulumi program deploys (docs/local-stack.md)."""
