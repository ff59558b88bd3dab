"""Connections stay open across requests (HTTP/1.1 keep-alive), as API Gateway keeps them."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from integration_tests.conftest import Api


def test_two_requests_travel_on_one_connection(api: Api) -> None:
    url = urlsplit(api.base_url)
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(url.netloc, timeout=30)
    try:
        connection.request("GET", f"{url.path}/health")
        first = connection.getresponse()
        first_body = first.read()
        socket = connection.sock

        # A body nobody reads (no route takes it) must not be taken for the next request.
        connection.request("POST", f"{url.path}/no/such/route", body=b'{"a": "GET /health HTTP/1.1"}')
        second = connection.getresponse()
        second_body = second.read()
        connection.request("GET", f"{url.path}/health")
        third = connection.getresponse()
        third.read()

        assert first.status == 200 and first_body == b'{"status":"ok"}'
        assert int(first.headers["Content-Length"]) == len(first_body)
        assert second.status == 404 and int(second.headers["Content-Length"]) == len(second_body)
        assert third.status == 200
        assert socket is not None and connection.sock is socket  # not reconnected
        assert not third.will_close
    finally:
        connection.close()
