"""The outputs of a stack, embedded or deployed, by the same keys."""

from __future__ import annotations

from collections.abc import Mapping


def stack_outputs(
    *,
    api_url: object,
    region: object,
    user_pool_id: object,
    user_pool_client_id: object,
    tables: Mapping[str, object],
    buckets: Mapping[str, object],
    aws_endpoint: object | None = None,
    outbox: object | None = None,
) -> dict[str, object]:
    """The outputs of a stack, embedded or deployed, by the same keys.

    `tables` and `buckets` map each declared logical name to the physical name. Values may be Pulumi Outputs.
    `aws_endpoint` and `outbox` (the folder of the emails Cognito would send) are the embedded stack's only.
    """
    outputs: dict[str, object] = {
        "apiUrl": api_url,
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": user_pool_client_id,
        "tables": tables,
        "buckets": buckets,
    }
    if aws_endpoint is not None:
        outputs["awsEndpoint"] = aws_endpoint
    if outbox is not None:
        outputs["outbox"] = outbox
    return outputs
