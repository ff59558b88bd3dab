"""Users: what `POST /user` costs over a bare upload, and how much memory a 4 MiB avatar takes in the handler.

- user_create_1mib: POST /user with a 1 MiB avatar over HTTP on the embedded stack (gateway, authorizer, multipart
  parsing, sniffing, the pending upload, the transaction, the copy to avatars/, the pending delete, presigning) /
  a bare S3 PutObject of the same bytes plus a DynamoDB PutItem of a user item, against the same moto server.
  Rounds interleaved; the ratio's min-max is over the rounds.
- user_create_peak_memory_4mib: peak Python memory (tracemalloc) of one direct handler call creating a user with a
  4 MiB avatar (the event built beforehand, as Lambda's runtime would) / the upload's size. The moto server runs
  in this process, so its own copy of the body is counted too: the note gives the bare put's multiple, measured
  the same way in the same run, as the floor.

`python -m bench.users` prints the rows; `make bench` runs it with the others.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import statistics
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

import requests

from bench.common import per_call_seconds
from bench.common import row as common_row
from embedded_stack.apigateway.events import lambda_context, proxy_event
from embedded_stack.stack import EmbeddedStack, StackSettings
from lambdas import catalog
from testkit import images

ROUNDS = 5
CALLS_PER_ROUND = 8
MIB = 1024 * 1024


def _peak_bytes(action: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _signed_in(api: str) -> tuple[dict[str, str], dict[str, str]]:
    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "Bench-Password-42!"
    requests.post(f"{api}/auth/signup", json={"email": email, "password": password, "name": "Bench"}, timeout=30)
    login = requests.post(f"{api}/auth/login", json={"email": email, "password": password}, timeout=30)
    login.raise_for_status()
    id_token = login.json()["idToken"]
    from jwt import decode

    claims = {key: str(value) for key, value in decode(id_token, options={"verify_signature": False}).items()}
    return {"Authorization": f"Bearer {id_token}"}, claims


def run() -> list[dict[str, Any]]:
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the handlers' logs are not what is measured
    stack = EmbeddedStack(StackSettings(api_port=0, aws_port=0, outputs_file=None, reload=False)).start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        return [_create_over_http(stack), _peak_memory(stack)]
    finally:
        stack.stop()


def _create_over_http(stack: EmbeddedStack) -> dict[str, Any]:
    import boto3

    api = stack.api_url
    headers, _ = _signed_in(api)
    avatar = images.png_of_size(MIB)
    session = requests.Session()
    s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
    bucket = os.environ[catalog.AVATARS_BUCKET.env_var]
    table = os.environ[catalog.USERS_TABLE.env_var]

    def create() -> None:
        response = session.post(
            f"{api}/user",
            data={"name": "Bench User", "email": f"{uuid.uuid4().hex}@bench.example"},
            files={"avatar": ("face.png", avatar, "image/png")},
            headers=headers,
            timeout=30,
        )
        assert response.status_code == 201, response.text

    def bare() -> None:
        user_id = str(uuid.uuid4())
        s3.put_object(Bucket=bucket, Key=f"bench/{user_id}.png", Body=avatar, ContentType="image/png")
        item = {"pk": f"BENCH#{user_id}", "name": "Bench User", "email": f"{user_id}@bench.example"}
        dynamodb.put_item(TableName=table, Item={name: {"S": value} for name, value in item.items()})

    create(), bare()  # warm: imports, connections
    candidate, baseline = [], []
    for _ in range(ROUNDS):
        candidate.append(per_call_seconds(create, CALLS_PER_ROUND))
        baseline.append(per_call_seconds(bare, CALLS_PER_ROUND))
    return common_row(
        "user_create_1mib",
        candidate,
        baseline,
        "s/request",
        f"POST /user over HTTP / bare S3 put + DynamoDB put; {ROUNDS} interleaved rounds of {CALLS_PER_ROUND}",
    )


def _peak_memory(stack: EmbeddedStack) -> dict[str, Any]:
    import boto3

    from lambdas.users.handler import lambda_handler

    _, claims = _signed_in(stack.api_url)
    avatar = images.png_of_size(4 * MIB)
    s3 = boto3.client("s3")
    bucket = os.environ[catalog.AVATARS_BUCKET.env_var]

    def event() -> dict[str, Any]:
        body, content_type = images.form(email=f"{uuid.uuid4().hex}@bench.example", avatar=avatar)
        return proxy_event(
            "POST",
            "/user",
            body=base64.b64encode(body).decode("ascii"),
            headers={"Content-Type": content_type},
            claims=claims,
        ) | {"isBase64Encoded": True}

    def handler_call() -> int:
        prepared = event()
        result: dict[str, Any] = {}
        peak = _peak_bytes(lambda: result.update(lambda_handler(prepared, lambda_context("users"))))
        assert result["statusCode"] == 201, json.dumps(result)[:300]
        return peak

    def bare_put() -> int:
        return _peak_bytes(lambda: s3.put_object(Bucket=bucket, Key=f"bench/{uuid.uuid4()}.png", Body=avatar))

    handler_call(), bare_put()  # warm: first-call imports and caches are not per-request memory
    handler_peaks, bare_peaks = [], []
    for _ in range(3):
        handler_peaks.append(handler_call())
        bare_peaks.append(bare_put())
    size = [float(len(avatar))] * len(handler_peaks)
    row = common_row(
        "user_create_peak_memory_4mib",
        [float(peak) for peak in handler_peaks],
        size,
        "bytes",
        f"peak / upload size; a bare S3 put of the same bytes peaks at "
        f"{statistics.median(bare_peaks) / len(avatar):.2f}x (moto in-process counts in both)",
    )
    return row


def main() -> None:
    rows = run()
    print("| benchmark | candidate | baseline | ratio (min-max) | note |")
    print("|---|---|---|---|---|")
    for row in rows:
        unit = row["unit"]
        print(
            f"| {row['name']} | {row['candidate']:.6g} {unit} | {row['baseline']:.6g} {unit} | "
            f"{row['ratio']:.2f}x ({row['min']:.2f}-{row['max']:.2f}) | {row['note']} |"
        )


if __name__ == "__main__":
    main()
