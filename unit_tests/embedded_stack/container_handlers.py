"""A function for the container tests, steered by its event's body (JSON):

- `barrier` (a folder) and `parties`: note this container's arrival, then wait until `parties` containers arrived;
- `gate` (a file): wait until it exists (the test opens it);
- `raise`, `exit`, `unserialisable`, `print`: fail in those ways, or print to stdout;
- `allocate` (MB): keep that much more memory resident, for as long as the container lives.

It answers its process id and how many events its module has seen: module state is per container.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CALLS = 0
KEPT: list[bytearray] = []


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    global CALLS
    CALLS += 1
    command = json.loads(event.get("body") or "{}")
    met = True
    if "barrier" in command:
        folder = Path(command["barrier"])
        (folder / str(os.getpid())).touch()
        met = wait_until(lambda: len(list(folder.iterdir())) >= command["parties"])
    if "gate" in command:
        met = wait_until(Path(command["gate"]).exists, limit=60)
    if command.get("raise"):
        raise RuntimeError("the function failed")
    if command.get("exit"):
        os._exit(3)
    if command.get("print"):
        print("a print must not disturb the runtime's protocol")
        sys.stdout.flush()
    if command.get("allocate"):
        memory = bytearray(command["allocate"] * 1024 * 1024)
        memory[::4096] = b"x" * len(range(0, len(memory), 4096))  # resident, page by page
        KEPT.append(memory)
    if command.get("unserialisable"):
        return {"statusCode": 200, "body": object()}
    body = {
        "pid": os.getpid(),
        "calls": CALLS,
        "met": met,
        "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "python": "{}.{}".format(*sys.version_info[:2]),
        "executionEnv": os.environ.get("AWS_EXECUTION_ENV"),
        "memory": context.memory_limit_in_mb,
        "requestId": context.aws_request_id,
    }
    return {"statusCode": 200, "body": json.dumps(body)}


def wait_until(condition: Callable[[], bool], limit: float = 20.0) -> bool:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True
