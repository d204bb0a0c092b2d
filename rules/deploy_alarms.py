"""Alarms that reach someone (deploy): an alarm's SNS topic has a subscription.

An alarm whose topic nobody subscribes to changes state in silence. The topic and its
subscriptions are looked up across the stacks judged in the same run (the assembly); a topic
outside the run (a literal ARN) is not judged, since its subscriptions cannot be seen.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.model import Category, Issue, Severity, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._deploy_support import locate
from rules._support import as_list, referrers_anywhere


def _subscribed(topic: Resource) -> bool:
    if as_list(topic.prop("Subscription")):
        return True
    return bool(referrers_anywhere(topic, "AWS::SNS::Subscription", "Properties/TopicArn"))


@rule(
    id="DEPLOY-ALARM-001",
    slug="alarm-topic-without-subscription",
    title="An alarm's SNS topic has at least one subscription in the assembly",
    severity=Severity.WARNING,
    resource_types=("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"),
    category=Category.DEPLOY,
    pci=("10.7.2",),
)
def alarm_topic_without_subscription(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every topic among the alarm's actions has a subscription (inline or `AWS::SNS::Subscription`).

    Why:
        CloudWatch publishes the state change to the topic, and SNS delivers it to the topic's
        subscribers: with none, the message is discarded and the failure it reports goes
        unnoticed (PCI DSS 10.7.2 asks that failures of critical controls are detected and
        alerted). Subscriptions made outside the code (by hand, or by another tool) are
        invisible here: acknowledge the finding with the reason saying who subscribes.
        AWS: "Using Amazon CloudWatch alarms" (notification actions) and "Subscribing to an
        Amazon SNS topic", https://docs.aws.amazon.com/sns/latest/dg/sns-create-subscribe-endpoint-to-topic.html

    Fix:
        Subscribe the topic's readers in the same app, from configuration.

    Example:
        topic.add_subscription(subs.EmailSubscription("oncall@example.com"))
    """
    seen: set[str] = set()
    for prop in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        for i, action in enumerate(as_list(resource.prop(prop))):
            topic = locate(action, resource.template).resource
            if topic is None or topic.type != "AWS::SNS::Topic":
                continue
            key = f"{topic.stack}/{topic.logical_id}"
            if key in seen or _subscribed(topic):
                continue
            seen.add(key)
            yield violation(
                f"topic {topic.logical_id} ({topic.stack}) has no subscription in this assembly",
                f"Properties/{prop}/{i}",
            )
