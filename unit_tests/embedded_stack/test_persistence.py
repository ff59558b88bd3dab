"""The embedded stack's state on disk (embedded_stack.moto.persistence): what a restart gets back."""

from __future__ import annotations

import contextlib
import io
import pickle
import sys
import time
import types
from pathlib import Path

import boto3
import moto
import pytest
from moto import mock_aws
from moto.core.base_backend import BackendDict
from moto.dynamodb.models.dynamo_type import DynamoType

import embedded_stack.moto as adapted_moto
from embedded_stack.moto import persistence, range_queries, signing_key
from embedded_stack.provision import provision
from lambdas.shared.aws import client
from lambdas.tenants.models import NewTenant
from lambdas.tenants.store import create_tenant, get_tenant

PASSWORD = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def patched() -> None:
    adapted_moto.install()


def sign_up(client_id: str, email: str) -> None:
    cognito = client("cognito-idp")
    cognito.sign_up(
        ClientId=client_id, Username=email, Password=PASSWORD, UserAttributes=[{"Name": "email", "Value": email}]
    )


def log_in(client_id: str, email: str) -> dict[str, str]:
    result = client("cognito-idp").initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
    )
    return result["AuthenticationResult"]


def test_a_restored_state_has_the_users_records_objects_and_ids_of_the_saved_one(aws: object, trigger: None) -> None:
    key = signing_key.new_key()
    signing_key.install(key)
    before = provision()
    sign_up(before.user_pool_client_id, "ada@example.com")
    tenant = create_tenant(
        NewTenant(name="Acme", website="acme.example", contactEmail="ops@acme.example"), owner="ada-sub"
    )
    client("s3").create_bucket(Bucket="kept-objects")
    client("s3").put_object(Bucket="kept-objects", Key="a/b.txt", Body=b"body bytes")
    saved = io.BytesIO()
    persistence.dump(persistence.document(persistence.capture(key)), saved)

    BackendDict.reset()  # as in a new process: moto's backends are empty
    assert client("dynamodb").list_tables()["TableNames"] == []
    restored = persistence.loads(saved.getvalue())
    assert restored is not None
    signing_key.install(restored.signing_key)
    persistence.restore(restored)

    after = provision()
    assert after == before  # same table names, pool id and client id: the outputs file stays right
    assert log_in(after.user_pool_client_id, "ada@example.com")["IdToken"]
    assert get_tenant(tenant.id) == tenant
    assert client("s3").get_object(Bucket="kept-objects", Key="a/b.txt")["Body"].read() == b"body bytes"
    assert restored.signing_key.as_dict(private=True) == key.as_dict(private=True)


def test_a_state_from_another_moto_version_is_not_loaded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    saved = {"format": 1, "moto": "0.0.1", "signing_key": {}, "backends": {}}
    (tmp_path / persistence.STATE_FILE).write_bytes(pickle.dumps(saved))

    assert persistence.load(tmp_path) is None
    assert "another moto version" in caplog.text


def test_an_unreadable_state_is_set_aside_and_the_stack_starts_empty(tmp_path: Path) -> None:
    (tmp_path / persistence.STATE_FILE).write_bytes(b"not a pickle")

    assert persistence.load(tmp_path) is None
    assert not (tmp_path / persistence.STATE_FILE).exists()
    assert (tmp_path / "state.unreadable").read_bytes() == b"not a pickle"


def test_no_state_file_means_an_empty_start(tmp_path: Path) -> None:
    assert persistence.load(tmp_path / "never-written") is None


def test_an_atomic_write_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "state.pickle"
    persistence.write_atomically(path, b"first")
    persistence.write_atomically(path, b"second")

    assert path.read_bytes() == b"second"
    assert [found.name for found in path.parent.iterdir()] == ["state.pickle"]


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.pickle"
    persistence.write_atomically(path, b"previous")

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(persistence.os, "fsync", disk_full)
    with pytest.raises(OSError):
        persistence.write_atomically(path, b"half")

    assert path.read_bytes() == b"previous"
    assert [found.name for found in tmp_path.iterdir()] == ["state.pickle"]


@pytest.mark.parametrize(
    ("method", "target", "changes"),
    [
        ("GET", "", False),
        ("HEAD", "", False),
        ("PUT", "", True),  # S3 PutObject
        ("DELETE", "", True),
        ("POST", "DynamoDB_20120810.GetItem", False),
        ("POST", "DynamoDB_20120810.Query", False),
        ("POST", "DynamoDB_20120810.TransactWriteItems", True),
        ("POST", "AWSCognitoIdentityProviderService.ListUsers", False),
        ("POST", "AWSCognitoIdentityProviderService.InitiateAuth", True),  # stores a refresh token
        ("POST", "", True),
    ],
)
def test_which_requests_may_change_the_state(method: str, target: str, changes: bool) -> None:
    environ = {"REQUEST_METHOD": method} | ({"HTTP_X_AMZ_TARGET": target} if target else {})

    assert persistence.changes_state(environ) is changes


def test_snapshots_follow_changes_within_the_interval_and_once_more_on_stop(tmp_path: Path) -> None:
    key = signing_key.new_key()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        snapshots = persistence.Snapshots(tmp_path, key, contextlib.nullcontext, interval=0.05)
        snapshots.start()
        snapshots.request_seen({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"})
        time.sleep(0.2)
        assert not snapshots.path.exists()  # a read writes nothing

        dynamodb.create_table(
            TableName="first",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        snapshots.request_seen({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.CreateTable"})
        deadline = time.monotonic() + 5
        while not snapshots.path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        saved = persistence.loads(snapshots.path.read_bytes())
        assert saved is not None
        assert "first" in saved.backends["dynamodb"]["123456789012"]["us-east-1"].tables

        dynamodb.delete_table(TableName="first")
        snapshots.stop()
        saved = persistence.loads(snapshots.path.read_bytes())
        assert saved is not None
        assert saved.backends["dynamodb"]["123456789012"]["us-east-1"].tables == {}


def test_a_failed_snapshot_is_logged_and_the_next_change_tries_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[object] = []
    real_capture = persistence.capture

    def capture_failing_once(key: object) -> persistence.State:
        calls.append(key)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return real_capture(key)  # type: ignore[arg-type]

    monkeypatch.setattr(persistence, "capture", capture_failing_once)
    with mock_aws():
        snapshots = persistence.Snapshots(tmp_path, signing_key.new_key(), contextlib.nullcontext, interval=0.01)
        snapshots.start()
        snapshots.request_seen({"REQUEST_METHOD": "PUT"})
        deadline = time.monotonic() + 5
        while "snapshot to" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
        snapshots.request_seen({"REQUEST_METHOD": "PUT"})
        while not snapshots.path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        snapshots.stop()

    assert "disk on fire" in caplog.text
    assert snapshots.path.exists()


def test_the_state_records_the_moto_version_it_was_written_by() -> None:
    data = io.BytesIO()
    persistence.dump(persistence.document(persistence.State(signing_key.new_key(), {})), data)

    assert pickle.loads(data.getvalue())["moto"] == moto.__version__


def test_a_snapshot_the_child_cannot_write_fails_with_the_childs_reason(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_bytes(b"")
    finished = persistence.write_in_background(tmp_path / "a-file" / "state.pickle", {"format": 1})

    with pytest.raises(persistence.SnapshotFailed, match=r"FileExistsError|NotADirectoryError"):
        finished()


def test_a_snapshot_written_in_the_background_reads_back(tmp_path: Path) -> None:
    persistence.write_in_background(tmp_path / "state.pickle", {"format": 1, "kept": [1, 2]})()

    assert pickle.loads((tmp_path / "state.pickle").read_bytes()) == {"format": 1, "kept": [1, 2]}
    assert [found.name for found in tmp_path.iterdir()] == ["state.pickle"]


def test_a_snapshot_written_before_the_moto_adaptations_moved_still_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until embedded_stack/ was arranged by what it emulates, a sorted partition was pickled as a class of
    # embedded_stack.moto_patches, and the signing key through embedded_stack.signing_key.
    key = signing_key.new_key()
    partition = range_queries._SortedPartition()
    partition[DynamoType({"S": "b"})] = "item b"
    partition[DynamoType({"S": "a"})] = "item a"
    data = io.BytesIO()
    with monkeypatch.context() as before_the_move:
        for old_name, moved in (
            ("embedded_stack.moto_patches", range_queries._SortedPartition),
            ("embedded_stack.signing_key", signing_key.key_from_json),
        ):
            old_module = types.ModuleType(old_name)
            setattr(old_module, moved.__name__, moved)
            before_the_move.setitem(sys.modules, old_name, old_module)
            before_the_move.setattr(moved, "__module__", old_name)
        persistence.dump(persistence.document(persistence.State(key, {"dynamodb": {"partition": partition}})), data)
    assert b"embedded_stack.moto_patches" in data.getvalue()

    state = persistence.loads(data.getvalue())

    assert state is not None
    restored = state.backends["dynamodb"]["partition"]
    assert type(restored) is range_queries._SortedPartition
    assert restored.ordered_keys() == [DynamoType({"S": "a"}), DynamoType({"S": "b"})]
    assert signing_key.key_to_json(state.signing_key) == signing_key.key_to_json(key)
