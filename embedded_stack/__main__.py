"""`make run`: serve the embedded stack in the foreground until Ctrl-C."""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the imports, which are most of the start-up

import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

from embedded_stack.stack import OUTPUTS_FILE, EmbeddedStack, StackSettings  # noqa: E402


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for chatty in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    stack = EmbeddedStack(StackSettings.from_environment())
    try:
        stack.start()
    except OSError as error:
        print(f"Could not start: {error}. Set API_PORT / AWS_PORT to free ports.", file=sys.stderr)
        return 1
    api = stack.api_url
    print(
        f"""
API: {api}
AWS endpoint (moto): {stack.outputs["awsEndpoint"]}   outputs: {OUTPUTS_FILE}
Started in {time.perf_counter() - STARTED:.2f} s. Handlers reload when a file under lambdas/ changes.

Try it:
  curl -s {api}/health
  curl -s -X POST {api}/auth/signup -H 'Content-Type: application/json' \\
       -d '{{"email": "ada@example.com", "password": "Correct-Horse-42", "name": "Ada"}}'
  TOKEN=$(curl -s -X POST {api}/auth/login -H 'Content-Type: application/json' \\
       -d '{{"email": "ada@example.com", "password": "Correct-Horse-42"}}' \\
       | python3 -c 'import json, sys; print(json.load(sys.stdin)["idToken"])')
  curl -s -X POST {api}/tenants -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"name": "Acme", "website": "https://Acme.example/about", "contactEmail": "ops@acme.example"}}'

Ctrl-C stops everything.""",
        flush=True,
    )
    stopped = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stopped.set())
    try:
        stopped.wait()
    finally:
        stack.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
