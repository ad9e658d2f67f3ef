"""`--persist`: moto's state pickled and restored, keys and all."""

from __future__ import annotations

import io
import pickle
import threading
from pathlib import Path

import boto3
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws

from local.stack.console import Console
from local.stack.persistence import STATE_FILE, Snapshots, _Pickler


def test_locks_and_private_keys_survive_pickling() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    value = {"lock": threading.RLock(), "plain": threading.Lock(), "key": key}
    buffer = io.BytesIO()

    _Pickler(buffer).dump(value)
    loaded = pickle.loads(buffer.getvalue())  # noqa: S301 - our own bytes

    assert loaded["lock"].acquire(blocking=False)
    assert loaded["key"].private_numbers() == key.private_numbers()


def test_tables_queues_keys_and_schedules_survive_a_restart(tmp_path: Path) -> None:
    snapshots = Snapshots(tmp_path, Console(io.StringIO()))
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        )
        dynamodb.put_item(TableName="t", Item={"k": {"S": "v"}})
        kms = boto3.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(
            KeyId=key_id, Plaintext=b"token", EncryptionContext={"u": "1"}
        )
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="kept")

        assert snapshots.save({"scheduler": {"fired": ["x"]}})

    with mock_aws():
        extras = snapshots.restore()

        assert extras == {"scheduler": {"fired": ["x"]}}
        item = boto3.client("dynamodb").get_item(TableName="t", Key={"k": {"S": "v"}})
        assert item["Item"] == {"k": {"S": "v"}}
        plain = boto3.client("kms").decrypt(
            CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"u": "1"}
        )
        assert plain["Plaintext"] == b"token"
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
        assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "kept"


def test_an_unreadable_snapshot_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_bytes(b"not a pickle")
    output = io.StringIO()

    extras = Snapshots(tmp_path, Console(output)).restore()

    assert extras == {}
    assert (tmp_path / (STATE_FILE + ".incompatible")).exists()
    assert "starting empty" in output.getvalue()


def test_no_snapshot_yet(tmp_path: Path) -> None:
    assert Snapshots(tmp_path / "new", Console(io.StringIO())).restore() == {}
