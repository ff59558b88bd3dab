"""AWS clients, created once per container on first use.

botocore's clients, not boto3's: boto3 adds only its resources layer and s3transfer, which no function uses, and
importing them costs every cold start (docs/benchmarks.md, "Cold start"). The clients are the same objects
(presigning included). botocore reads AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) itself, so the same code
talks to AWS, LocalStack or the embedded stack's moto server.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.session import Session, get_session

if TYPE_CHECKING:
    from lambdas.catalog import Bucket, Table, UserPool

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@cache
def _session() -> Session:
    return get_session()


@cache
def client(service: str) -> Any:
    return _session().create_client(service, config=_CONFIG.merge(_s3_config()) if service == "s3" else _CONFIG)


def _s3_config() -> Config:
    """Presigned URLs signed with SigV4 (SigV2 is refused in most regions); path-style addressing when an endpoint
    override (LocalStack, the embedded stack's moto) is set, since its host has no per-bucket names."""
    overridden = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return Config(signature_version="s3v4", s3={"addressing_style": "path"} if overridden else None)


def table_name(table: Table) -> str:
    return os.environ[table.env_var]


def bucket_name(bucket: Bucket) -> str:
    return os.environ[bucket.env_var]


def user_pool_id(pool: UserPool) -> str:
    return os.environ[pool.pool_id_env_var]


def user_pool_client_id(pool: UserPool) -> str:
    return os.environ[pool.client_id_env_var]
