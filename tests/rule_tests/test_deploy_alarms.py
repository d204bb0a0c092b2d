"""DEPLOY-ALARM-001: alarm topics with a subscription somewhere in the assembly."""

from deploy_support import run, stack


def alarm(*actions):
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": list(actions)}}


def test_alarm_001_topics_without_subscription():
    topics = stack(
        "Topics",
        {
            "Subscribed": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "Sub": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "Subscribed"},
                    "Protocol": "email",
                    "Endpoint": "a@b.c",
                },
            },
            "Inline": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"Subscription": [{"Protocol": "sqs", "Endpoint": "arn"}]},
            },
            "Silent": {"Type": "AWS::SNS::Topic", "Properties": {}},
        },
        Outputs={
            f"O{t}": {"Value": {"Ref": t}, "Export": {"Name": t}} for t in ("Subscribed", "Silent")
        },
    )
    alarms = stack(
        "Alarms",
        {
            "Heard": alarm({"Fn::ImportValue": "Subscribed"}),
            "Unheard": alarm({"Fn::ImportValue": "Silent"}, {"Fn::ImportValue": "Silent"}),
            "External": alarm("arn:aws:sns:us-east-1:1:elsewhere"),
            "Local": alarm({"Ref": "LocalTopic"}),
            "LocalTopic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "LocalSub": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Fn::ImportValue": "Silent"},
                    "Protocol": "email",
                    "Endpoint": "x",
                },
            },
        },
    )
    # LocalSub subscribes Silent from the other stack: that counts, the local topic has none
    failing, undecided = run("DEPLOY-ALARM-001", [topics, alarms])
    assert failing == {"Local"}
    assert undecided == set()
    failing, _ = run(
        "DEPLOY-ALARM-001",
        [topics, stack("Alarms", {"Unheard": alarm({"Fn::ImportValue": "Silent"})})],
    )
    assert failing == {"Unheard"}
