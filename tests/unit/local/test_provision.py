"""Creating the template's resources in moto, and finding them again after a restart."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from local.stack.aws import AwsClients
from local.stack.provision import Provisioner
from local.template.intrinsics import Resolver
from local.template.loader import load_template
from tests.support.handlers import ROOT

EXTRA: dict[str, Any] = {
    "Dlq": {
        "Type": "AWS::SQS::Queue",
        "Properties": {"QueueName": "dlq.fifo", "FifoQueue": "true"},
    },
    "Work": {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "FifoQueue": True,
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]},
                "maxReceiveCount": 2,
            },
        },
    },
    "Group": {
        "Type": "AWS::Scheduler::ScheduleGroup",
        "Properties": {"Name": "snipes"},
    },
    "Generated": {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {"GenerateSecretString": {"PasswordLength": 12}},
    },
}


@pytest.fixture
def template() -> dict[str, Any]:
    document = load_template(ROOT / "template.yaml")
    document["Resources"].update(copy.deepcopy(EXTRA))
    return document


@pytest.fixture
def aws() -> Iterator[AwsClients]:
    with mock_aws():
        yield AwsClients(None, "us-east-1")


def provision(
    aws: AwsClients, template: dict[str, Any], secrets: dict[str, str] | None = None
) -> tuple[Provisioner, Resolver]:
    provisioner = Provisioner(aws, template, secrets)
    resolver = Resolver(template, {"Stage": "local"}, physical=provisioner)
    provisioner.provision(resolver)
    return provisioner, resolver


def test_resources_are_created_and_referenced_by_their_real_ids(
    aws: AwsClients, template: dict[str, Any]
) -> None:
    provisioner, resolver = provision(aws, template)

    sqs = aws.client("sqs")
    work_url = resolver.ref("Work")
    assert work_url == sqs.get_queue_url(QueueName="Work.fifo")["QueueUrl"]
    redrive = sqs.get_queue_attributes(QueueUrl=work_url, AttributeNames=["All"])
    policy = json.loads(redrive["Attributes"]["RedrivePolicy"])
    assert policy["deadLetterTargetArn"] == resolver.get_att("Dlq", "Arn")
    key_id = resolver.ref("TokenKey")
    assert (
        aws.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
    )
    aliases = aws.client("kms").list_aliases(KeyId=key_id)["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/ebay-sniper-tokens-local"]
    secret = aws.client("secretsmanager").get_secret_value(
        SecretId=resolver.ref("Generated")
    )
    assert len(secret["SecretString"]) == 12
    assert resolver.get_att("Group", "Arn").endswith(":schedule-group/snipes")
    assert "table" in provisioner.created


def test_a_second_start_finds_everything_again(
    aws: AwsClients, template: dict[str, Any]
) -> None:
    _, first = provision(aws, template)
    provisioner, second = provision(aws, template)

    assert second.ref("TokenKey") == first.ref("TokenKey")
    assert second.ref("EbayAppSecret") == first.ref("EbayAppSecret")
    assert provisioner.created == {}
    assert set(provisioner.found) >= {"table", "queue", "KMS key", "secret"}


def test_secret_values_are_set_at_every_start(
    aws: AwsClients, template: dict[str, Any]
) -> None:
    keyset = '{"clientId": "sniper-local"}'
    _, resolver = provision(aws, template, {"EbayAppSecret": keyset})
    manager = aws.client("secretsmanager")
    arn = resolver.ref("EbayAppSecret")
    assert manager.get_secret_value(SecretId=arn)["SecretString"] == keyset

    provision(aws, template, {"EbayAppSecret": '{"clientId": "changed"}'})

    assert manager.get_secret_value(SecretId=arn)["SecretString"] == (
        '{"clientId": "changed"}'
    )


def test_a_table_that_drifted_from_the_template_is_rebuilt(
    aws: AwsClients, template: dict[str, Any]
) -> None:
    older = copy.deepcopy(template)
    bids = older["Resources"]["BidsTable"]["Properties"]
    del bids["GlobalSecondaryIndexes"]
    del bids["LocalSecondaryIndexes"]
    bids["AttributeDefinitions"] = bids["AttributeDefinitions"][:2]
    _, resolver = provision(aws, older)
    dynamodb = aws.client("dynamodb")
    dynamodb.put_item(
        TableName="ebay-sniper-bids-local",
        Item={"userId": {"S": "u"}, "sk": {"S": "BID#b"}},
    )

    provisioner, resolver = provision(aws, template)
    drifted = provisioner.table_drift(resolver)
    kept = [provisioner.rebuild_table(resolver, logical_id) for logical_id in drifted]

    assert drifted == ["BidsTable"]
    assert kept == [(1, 0)]
    table = dynamodb.describe_table(TableName="ebay-sniper-bids-local")["Table"]
    assert table["GlobalSecondaryIndexes"]
    assert provisioner.table_drift(resolver) == []


def test_schedules_the_template_no_longer_declares_are_removed(
    aws: AwsClients, template: dict[str, Any]
) -> None:
    # First run: the template declares a schedule (a ScheduleV2 event or an
    # AWS::Scheduler::Schedule). Second run: it was renamed; the old one must not
    # keep firing from the persisted state, and the app's own schedules stay.
    target = {
        "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
    }
    first, _ = provision(aws, template)
    first.put_schedule(
        "Nightly", {"ScheduleExpression": "rate(1 day)", "Target": target}
    )
    aws.client("scheduler").create_schedule(
        Name="bid-1",
        GroupName="snipes",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
    )
    second, _ = provision(aws, template)
    second.put_schedule(
        "NightlyRenamed",
        {"ScheduleExpression": "rate(1 day)", "Target": target, "GroupName": "snipes"},
    )

    removed = second.prune_schedules(sorted(first.schedules))

    assert removed == ["default/Nightly"]
    names = {s["Name"] for s in aws.client("scheduler").list_schedules()["Schedules"]}
    assert names == {"NightlyRenamed", "bid-1"}
    assert second.prune_schedules(sorted(second.schedules)) == []
