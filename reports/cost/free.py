"""Resource types with no charge of their own, each with the reason.

A type is free here only when AWS bills nothing for the resource itself; what it causes is priced
where it lands (a Lambda permission is free, the function it lets API Gateway invoke is not; an
SNS subscription is free, the deliveries are priced on its topic). Any type that is neither
priced (``resources/``) nor listed here is reported *not priced*, never counted as $0.
"""

from __future__ import annotations

FREE_TYPES: dict[str, str] = {
    # identity and access
    "AWS::IAM::Role": "IAM is free",
    "AWS::IAM::Policy": "IAM is free",
    "AWS::IAM::ManagedPolicy": "IAM is free",
    "AWS::IAM::InstanceProfile": "IAM is free",
    "AWS::IAM::User": "IAM is free",
    "AWS::IAM::Group": "IAM is free",
    "AWS::IAM::UserToGroupAddition": "IAM is free",
    "AWS::IAM::AccessKey": "IAM is free",
    "AWS::IAM::ServiceLinkedRole": "IAM is free",
    "AWS::IAM::OIDCProvider": "IAM is free",
    "AWS::IAM::RolePolicy": "IAM is free",
    # Lambda wiring
    "AWS::Lambda::Permission": "a resource policy; invocations are priced on the function",
    "AWS::Lambda::EventSourceMapping": "free; polling requests are priced on the queue",
    "AWS::Lambda::LayerVersion": "layers have no charge (they count towards the code storage quota)",
    "AWS::Lambda::LayerVersionPermission": "a resource policy",
    "AWS::Lambda::EventInvokeConfig": "configuration only",
    "AWS::Lambda::Url": "function URLs are free; invocations are priced on the function",
    # logs
    "AWS::Logs::QueryDefinition": "saved queries are free; scanning is priced on the log group",
    "AWS::Logs::ResourcePolicy": "a resource policy",
    "AWS::Logs::SubscriptionFilter": "free; the destination is priced",
    "AWS::Logs::LogStream": "streams are part of their log group",
    # API Gateway structure
    "AWS::ApiGateway::Deployment": "a snapshot of the API; requests are priced on the REST API",
    "AWS::ApiGateway::Resource": "API structure",
    "AWS::ApiGateway::Method": "API structure",
    "AWS::ApiGateway::Model": "API structure",
    "AWS::ApiGateway::RequestValidator": "API structure",
    "AWS::ApiGateway::Authorizer": "free; an authorizer function is priced as a function",
    "AWS::ApiGateway::GatewayResponse": "API structure",
    "AWS::ApiGateway::Account": "account settings",
    "AWS::ApiGateway::ApiKey": "API keys are free",
    "AWS::ApiGateway::UsagePlan": "usage plans are free",
    "AWS::ApiGateway::UsagePlanKey": "usage plans are free",
    "AWS::ApiGateway::BasePathMapping": "custom-domain mapping",
    "AWS::ApiGateway::DomainName": "custom domain names are free",
    "AWS::ApiGateway::RestApiPolicy": "a resource policy",
    "AWS::ApiGatewayV2::Stage": "HTTP API stages are free",
    "AWS::ApiGatewayV2::Route": "API structure",
    "AWS::ApiGatewayV2::Integration": "API structure",
    "AWS::ApiGatewayV2::Deployment": "API structure",
    # networking that AWS does not bill
    "AWS::EC2::VPC": "VPCs are free",
    "AWS::EC2::Subnet": "subnets are free",
    "AWS::EC2::RouteTable": "route tables are free",
    "AWS::EC2::Route": "routes are free",
    "AWS::EC2::SubnetRouteTableAssociation": "free",
    "AWS::EC2::InternetGateway": "internet gateways are free (data transfer is billed by traffic)",
    "AWS::EC2::VPCGatewayAttachment": "free",
    "AWS::EC2::EgressOnlyInternetGateway": "free",
    "AWS::EC2::SecurityGroup": "security groups are free",
    "AWS::EC2::SecurityGroupIngress": "security groups are free",
    "AWS::EC2::SecurityGroupEgress": "security groups are free",
    "AWS::EC2::NetworkAcl": "network ACLs are free",
    "AWS::EC2::NetworkAclEntry": "network ACLs are free",
    "AWS::EC2::SubnetNetworkAclAssociation": "network ACLs are free",
    "AWS::EC2::DHCPOptions": "free",
    "AWS::EC2::VPCDHCPOptionsAssociation": "free",
    "AWS::EC2::PrefixList": "customer-managed prefix lists are free",
    "AWS::EC2::LaunchTemplate": "a template; the instances it launches are priced",
    "AWS::EC2::KeyPair": "free",
    "AWS::EC2::VPCEndpointService": "free; the load balancer behind it is priced",
    # scaling configuration
    "AWS::AutoScaling::LaunchConfiguration": "a template; the group's instances are priced",
    "AWS::AutoScaling::ScalingPolicy": "scaling policies are free (their alarms are CloudWatch's)",
    "AWS::AutoScaling::LifecycleHook": "free",
    "AWS::AutoScaling::ScheduledAction": "free",
    "AWS::AutoScaling::WarmPool": "free; warm instances are priced as instances",
    "AWS::ApplicationAutoScaling::ScalableTarget": "Application Auto Scaling is free",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "Application Auto Scaling is free",
    # containers and load balancing structure
    "AWS::ECS::Cluster": "a cluster has no charge; tasks and instances are priced",
    "AWS::ECS::TaskDefinition": "a template; running tasks are priced on the service",
    "AWS::ECS::ClusterCapacityProviderAssociations": "configuration only",
    "AWS::ECS::CapacityProvider": "configuration only",
    "AWS::ElasticLoadBalancingV2::Listener": "part of the load balancer",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "part of the load balancer (LCU rule evaluations)",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "part of the load balancer",
    "AWS::ElasticLoadBalancingV2::ListenerCertificate": "part of the load balancer",
    "AWS::CertificateManager::Certificate": "public ACM certificates are free",
    # databases structure
    "AWS::RDS::DBSubnetGroup": "configuration only",
    "AWS::RDS::DBClusterParameterGroup": "configuration only",
    "AWS::RDS::DBParameterGroup": "configuration only",
    "AWS::RDS::OptionGroup": "configuration only",
    "AWS::SecretsManager::RotationSchedule": "free; the rotation function is priced",
    "AWS::SecretsManager::SecretTargetAttachment": "configuration only",
    "AWS::SecretsManager::ResourcePolicy": "a resource policy",
    # policies and attachments
    "AWS::S3::BucketPolicy": "a resource policy",
    "AWS::SQS::QueuePolicy": "a resource policy",
    "AWS::SQS::QueueInlinePolicy": "a resource policy",
    "AWS::SNS::TopicPolicy": "a resource policy",
    "AWS::SNS::TopicInlinePolicy": "a resource policy",
    "AWS::SNS::Subscription": "free; paid deliveries are priced on the topic",
    "AWS::KMS::Alias": "aliases are free",
    "AWS::Events::Rule": "rules are free; custom events are priced on their bus",
    "AWS::Events::EventBusPolicy": "a resource policy",
    "AWS::WAFv2::WebACLAssociation": "free; requests are priced on the web ACL",
    "AWS::WAFv2::IPSet": "free; rules that use it are priced on the web ACL",
    "AWS::WAFv2::RegexPatternSet": "free; rules that use it are priced on the web ACL",
    "AWS::WAFv2::LoggingConfiguration": "free; the log destination is priced",
    "AWS::Shield::ProtectionGroup": "included in the Shield Advanced subscription",
    "AWS::Shield::DRTAccess": "included in the Shield Advanced subscription",
    "AWS::Shield::ProactiveEngagement": "included in the Shield Advanced subscription",
    "AWS::GuardDuty::Filter": "configuration only",
    "AWS::GuardDuty::IPSet": "configuration only",
    "AWS::GuardDuty::ThreatIntelSet": "configuration only",
    "AWS::Route53::RecordSetGroup": "records are free (queries to AWS alias records are free)",
    "AWS::CloudFront::OriginAccessControl": "configuration only",
    "AWS::CloudFront::CloudFrontOriginAccessIdentity": "configuration only",
    "AWS::CloudFront::ResponseHeadersPolicy": "configuration only",
    "AWS::CloudFront::CachePolicy": "configuration only",
    "AWS::CloudFront::OriginRequestPolicy": "configuration only",
    # cost management
    "AWS::CE::AnomalyMonitor": "Cost Anomaly Detection is free (grade C source)",
    "AWS::CE::AnomalySubscription": "Cost Anomaly Detection is free (grade C source)",
    "AWS::CE::CostCategory": "cost categories are free",
    "AWS::Budgets::Budget": "budgets without actions are free (verify)",
    # CloudFormation and CDK bookkeeping
    "AWS::CDK::Metadata": "CDK bookkeeping",
    "AWS::CloudFormation::CustomResource": "a custom resource; its handler function is priced",
    "AWS::CloudFormation::WaitCondition": "CloudFormation bookkeeping",
    "AWS::CloudFormation::WaitConditionHandle": "CloudFormation bookkeeping",
    "AWS::SSM::Document": "documents you own are free",
}

CUSTOM_PREFIX = "Custom::"


def free_reason(resource_type: str) -> str | None:
    """Why a type is free, or ``None`` when it is not on the list."""
    if resource_type.startswith(CUSTOM_PREFIX):
        return "a custom resource; its handler function is priced"
    return FREE_TYPES.get(resource_type)


def is_free(resource_type: str) -> bool:
    return free_reason(resource_type) is not None
