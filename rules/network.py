"""Network exposure (PCI DSS 1.3.x, 1.4.x): nothing administrative or data-bearing is reachable
from the internet.

No SSH/RDP or all-ports ingress from anywhere in security groups or network ACLs, no publicly
accessible databases, no public IP addresses handed out by launch templates or data-tier
subnets, and S3 public access blocked. Admin ports come from ``thresholds.admin_ports``, data-tier
subnet words from ``thresholds.data_subnet_markers``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from governance.intrinsics import Unresolved, as_bool, as_int, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.tags import resource_tags
from governance.template import Resource, Template
from rules._support import as_list, has_marker, pick_branch

ANYWHERE = ("0.0.0.0/0", "::/0")


@lru_cache(maxsize=4096)  # a run's security groups repeat a few CIDRs many times
def is_anywhere(cidr: str) -> bool:
    """True when ``cidr`` is a /0 network, however it is spelt: ``0.0.0.0/0``, ``::/0``,
    ``0:0:0:0:0:0:0:0/0``, ``::0/0``, ``0000::/0``, ``000.000.000.000/0``, ``10.0.0.0/0``,
    ``::/00`` - compared as parsed networks, not as text."""
    address, slash, prefix = cidr.strip().partition("/")
    prefix = prefix.strip()
    if not slash or not (prefix.isascii() and prefix.isdigit()):
        return False
    octets = address.strip().split(".")
    if len(octets) == 4 and all(o.isascii() and o.isdigit() and len(o) <= 3 for o in octets):
        address = ".".join(str(int(o)) for o in octets)  # leading zeros, as AWS writes them
    try:
        network = ipaddress.ip_network(f"{address.strip()}/{int(prefix)}", strict=False)
    except ValueError:
        return False
    return network.prefixlen == 0


_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "-1": "all", "all": "all"}


def _exposure(
    cidrs: list[Any],
    protocol: Any,
    from_port: Any,
    to_port: Any,
    template: Template,
    policy: Policy,
) -> str | Unresolved | None:
    """What an allow rule opens to the internet ("all traffic", "port 22"), or ``None``.

    The ports are read first: a rule whose literal protocol and ports can never include an
    admin port opens nothing judged here, whatever its source.
    """
    opened = _port_exposure(protocol, from_port, to_port, template, policy)
    if opened is None:
        return None
    open_to_all = False
    for cidr in cidrs:
        text = as_str(cidr, template)
        if isinstance(text, Unresolved):
            return Unresolved(f"source CIDR cannot be read: {text.reason}")
        open_to_all = open_to_all or (text is not None and is_anywhere(text))
    if not open_to_all:
        return None
    return opened


def _port_exposure(
    protocol: Any, from_port: Any, to_port: Any, template: Template, policy: Policy
) -> str | Unresolved | None:
    """What the protocol and port range would open ("all traffic", "tcp port 22"), or ``None``."""
    proto = as_str(protocol, template)
    if isinstance(proto, Unresolved):
        return Unresolved(f"protocol cannot be read: {proto.reason}")
    kind = _PROTOCOLS.get(str(proto).lower())
    if kind == "all":
        return "all traffic"
    if kind is None:
        return None  # ICMP and other protocols carry no admin port
    low, high = as_int(from_port, template), as_int(to_port, template)
    if isinstance(low, Unresolved) or isinstance(high, Unresolved):
        return Unresolved("port range is only known at deploy time")
    low = 0 if low is None or low < 0 else low
    high = 65535 if high is None or high < 0 else high
    if low <= 0 and high >= 65535:
        return f"every {kind} port"
    ports = [p for p in policy.thresholds.admin_ports if low <= p <= high]
    if ports:
        return f"{kind} port {', '.join(str(p) for p in ports)}"
    return None


def _ingress_issue(exposure: str | Unresolved | None, where: str) -> Iterator[Issue]:
    if isinstance(exposure, Unresolved):
        yield undecidable(f"ingress rule cannot be read: {exposure.reason}", where)
    elif exposure:
        yield violation(f"ingress allows {exposure} from anywhere", where)


@rule(
    id="PCI-NET-001",
    slug="open-admin-port",
    title="No SSH, RDP or all-ports ingress from anywhere in security groups",
    severity=Severity.ERROR,
    resource_types=("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"),
    category=Category.PCI_NETWORK,
    pci=("1.2.8", "1.3.1", "1.3.2", "1.4.2", "1.5.1"),
    checkov=("CKV_AWS_24", "CKV_AWS_25"),
    cdk_nag=("PCI.DSS.321-EC2RestrictedSSH",),
)
def open_admin_port(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No ingress rule opens an admin port (22, 3389) or every port to 0.0.0.0/0 or ::/0.

    Why:
        SSH and RDP open to the internet are brute-forced within minutes; all-ports ingress
        exposes every service on the host. PCI DSS 1.3.1 restricts inbound traffic to what is
        necessary (AWS maps restricted-ssh to 1.2.8, 1.3.1, 1.3.2, 1.4.2, 1.5.1). HTTPS on 443
        from anywhere, as a public load balancer needs, is not judged here; a rule whose literal
        port range cannot include an admin port is decided by its ports, whatever its source
        (rule fields as in "Security group rules",
        https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html).

    Fix:
        Use Session Manager instead of SSH; allow admin ports only from a bastion's security
        group or a VPN prefix list.

    Example:
        sg.add_ingress_rule(ec2.Peer.security_group_id(bastion_sg.security_group_id), ec2.Port.tcp(22))
    """
    template = resource.template
    if resource.type == "AWS::EC2::SecurityGroupIngress":
        props = resource.properties
        cidrs = [props.get(k) for k in ("CidrIp", "CidrIpv6") if props.get(k) is not None]
        exposure = _exposure(
            cidrs,
            props.get("IpProtocol"),
            props.get("FromPort"),
            props.get("ToPort"),
            template,
            policy,
        )
        yield from _ingress_issue(exposure, "Properties")
        return
    for i, entry in enumerate(
        as_list(pick_branch(resource.prop("SecurityGroupIngress"), template))
    ):
        entry = pick_branch(entry, template)
        where = f"Properties/SecurityGroupIngress/{i}"
        if isinstance(entry, Unresolved):
            yield undecidable(f"ingress rule cannot be read: {entry.reason}", where)
            continue
        if not isinstance(entry, dict):
            continue
        cidrs = [entry.get(k) for k in ("CidrIp", "CidrIpv6") if entry.get(k) is not None]
        exposure = _exposure(
            cidrs,
            entry.get("IpProtocol"),
            entry.get("FromPort"),
            entry.get("ToPort"),
            template,
            policy,
        )
        yield from _ingress_issue(exposure, where)


@rule(
    id="PCI-NET-002",
    slug="nacl-open-admin-port",
    title="No network ACL entry allows SSH, RDP or all traffic from anywhere",
    severity=Severity.ERROR,
    resource_types=("AWS::EC2::NetworkAclEntry",),
    category=Category.PCI_NETWORK,
    pci=("1.2.8", "1.3.1", "1.3.2", "1.4.2", "1.5.1"),
)
def nacl_open_admin_port(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No inbound allow entry covers an admin port (or every port) from 0.0.0.0/0 or ::/0.

    Why:
        The network ACL is the subnet's outer wall; an allow for SSH/RDP from the internet
        there leaves only the security group in the way (PCI DSS 1.3.1; AWS maps
        nacl-no-unrestricted-ssh-rdp to 1.2.8, 1.3.1, 1.3.2, 1.4.2, 1.5.1).

    Fix:
        Allow only the ports the subnet serves (443 for a public tier) from anywhere.

    Example:
        ec2.NetworkAclEntry(self, "Https", network_acl=acl, cidr=ec2.AclCidr.any_ipv4(), rule_number=100, traffic=ec2.AclTraffic.tcp_port(443), direction=ec2.TrafficDirection.INGRESS)
    """
    template = resource.template
    egress = as_bool(resource.prop("Egress"), template)
    action = as_str(resource.prop("RuleAction"), template)
    if egress is True or (isinstance(action, str) and action.lower() != "allow"):
        return
    cidrs = [
        resource.prop(k) for k in ("CidrBlock", "Ipv6CidrBlock") if resource.prop(k) is not None
    ]
    exposure = _exposure(
        cidrs,
        resource.prop("Protocol"),
        resource.prop("PortRange", "From"),
        resource.prop("PortRange", "To"),
        template,
        policy,
    )
    if isinstance(egress, Unresolved) or isinstance(action, Unresolved):
        if exposure:
            yield undecidable("direction or action of the entry is only known at deploy time")
        return
    yield from _ingress_issue(exposure, "Properties")


@rule(
    id="PCI-NET-003",
    slug="public-database",
    title="No publicly accessible database instances",
    severity=Severity.ERROR,
    resource_types=("AWS::RDS::DBInstance", "AWS::Redshift::Cluster"),
    category=Category.PCI_NETWORK,
    pci=("1.3.1", "1.4.4"),
    checkov=("CKV_AWS_17",),
    cdk_nag=("PCI.DSS.321-RDSInstancePublicAccess",),
)
def public_database(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`PubliclyAccessible` is not true (and an RDS instance outside any subnet group sets it false).

    Why:
        A public database gets an internet-resolvable address; only its security group stands
        between the card data and the internet (PCI DSS 1.4.4: components storing cardholder
        data are not directly reachable from untrusted networks). AWS maps RDS.2 only within
        its standard; the numbers are ours. An RDS instance with no subnet group and no
        `PubliclyAccessible` lands in the default VPC, public by default.

    Fix:
        Place the database in isolated subnets with `publicly_accessible=False`.

    Example:
        rds.DatabaseInstance(self, "Db", vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED), publicly_accessible=False, ...)
    """
    value = resource.prop("PubliclyAccessible")
    if value is None:
        if resource.type == "AWS::RDS::DBInstance" and all(
            resource.prop(k) is None for k in ("DBSubnetGroupName", "DBClusterIdentifier")
        ):
            yield violation(
                "no subnet group: the instance defaults to public in the default VPC",
                "Properties/PubliclyAccessible",
            )
        return
    public = as_bool(value, resource.template)
    if isinstance(public, Unresolved):
        yield undecidable(
            f"PubliclyAccessible cannot be read: {public.reason}", "Properties/PubliclyAccessible"
        )
    elif public:
        yield violation("database is publicly accessible", "Properties/PubliclyAccessible")


def _public_ip_flags(resource: Resource) -> Iterator[tuple[Any, str]]:
    if resource.type == "AWS::AutoScaling::LaunchConfiguration":
        yield resource.prop("AssociatePublicIpAddress"), "Properties/AssociatePublicIpAddress"
        return
    if resource.type == "AWS::EC2::LaunchTemplate":
        interfaces = resource.prop("LaunchTemplateData", "NetworkInterfaces")
        base = "Properties/LaunchTemplateData/NetworkInterfaces"
    else:
        interfaces = resource.prop("NetworkInterfaces")
        base = "Properties/NetworkInterfaces"
    for i, nic in enumerate(as_list(interfaces)):
        if isinstance(nic, dict):
            yield nic.get("AssociatePublicIpAddress"), f"{base}/{i}/AssociatePublicIpAddress"


@rule(
    id="PCI-NET-004",
    slug="public-ip-on-launch",
    title="Launch templates and instances do not assign public IP addresses",
    severity=Severity.ERROR,
    resource_types=(
        "AWS::EC2::LaunchTemplate",
        "AWS::AutoScaling::LaunchConfiguration",
        "AWS::EC2::Instance",
    ),
    category=Category.PCI_NETWORK,
    pci=("1.4.5",),
    checkov=("CKV_AWS_88",),
    cdk_nag=(
        "PCI.DSS.321-EC2InstanceNoPublicIp",
        "PCI.DSS.321-AutoScalingLaunchConfigPublicIpDisabled",
    ),
)
def public_ip_on_launch(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No network interface sets `AssociatePublicIpAddress: true`.

    Why:
        A public IP makes the instance directly reachable and discloses it to the internet
        (PCI DSS 1.4.5; AWS maps ec2-launch-template-public-ip-disabled here). Instances sit
        in private subnets behind a load balancer. Instances with `SourceDestCheck: false` are
        routing appliances (NAT instances, such as CDK's `NatInstanceProviderV2` creates) that
        need their public address, and are not judged.

    Fix:
        `associate_public_ip_address=False` and private subnets.

    Example:
        ec2.LaunchTemplate(self, "Lt", associate_public_ip_address=False, ...)
    """
    if resource.type == "AWS::EC2::Instance":
        routes = as_bool(resource.prop("SourceDestCheck"), resource.template)
        if routes is False:
            return  # a NAT instance or other routing appliance: its public address is its job
    for value, where in _public_ip_flags(resource):
        if value is None:
            continue
        public = as_bool(value, resource.template)
        if isinstance(public, Unresolved):
            yield undecidable(f"AssociatePublicIpAddress cannot be read: {public.reason}", where)
        elif public:
            yield violation("network interface gets a public IP address", where)


def _tier_texts(resource: Resource) -> list[str]:
    tags = resource_tags(resource)
    tags = tags if isinstance(tags, dict) else {}
    kind = tags.get("aws-cdk:subnet-type")
    if isinstance(kind, str):
        return [kind]  # CDK says Public / Private / Isolated: trust it over names
    name = tags.get("Name")
    texts = [resource.logical_id]
    if isinstance(name, str):
        texts.append(name.rsplit("/", 1)[-1])
    return texts


@rule(
    id="PCI-NET-005",
    slug="data-subnet-assigns-public-ip",
    title="Private and data-tier subnets do not assign public IP addresses",
    severity=Severity.ERROR,
    resource_types=("AWS::EC2::Subnet",),
    category=Category.PCI_NETWORK,
    pci=("1.4.1", "1.4.4", "1.4.5"),
    cdk_nag=("PCI.DSS.321-VPCSubnetAutoAssignPublicIpDisabled",),
)
def data_subnet_assigns_public_ip(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A subnet marked private, isolated or data (`thresholds.data_subnet_markers`) has `MapPublicIpOnLaunch` off.

    Why:
        Everything launched into such a subnet would get a public address, exposing the data
        tier and erasing the boundary between trusted and untrusted networks (PCI DSS 1.4.1,
        1.4.4, 1.4.5; our mapping). Public subnets, which hold load balancers and
        NAT gateways, are not judged. The tier comes from CDK's `aws-cdk:subnet-type` tag, else
        from the subnet's name and logical id.

    Fix:
        `ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)`.

    Example:
        ec2.Vpc(self, "Vpc", subnet_configuration=[ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    """
    value = resource.prop("MapPublicIpOnLaunch")
    if value is None or not has_marker(
        _tier_texts(resource), policy.thresholds.data_subnet_markers
    ):
        return
    public = as_bool(value, resource.template)
    if isinstance(public, Unresolved):
        yield undecidable(
            f"MapPublicIpOnLaunch cannot be read: {public.reason}", "Properties/MapPublicIpOnLaunch"
        )
    elif public:
        yield violation(
            "data-tier subnet assigns public IP addresses", "Properties/MapPublicIpOnLaunch"
        )


BLOCK_SETTINGS = (
    "BlockPublicAcls",
    "BlockPublicPolicy",
    "IgnorePublicAcls",
    "RestrictPublicBuckets",
)


@rule(
    id="PCI-NET-006",
    slug="bucket-public-access-not-blocked",
    title="S3 Block Public Access is fully on",
    severity=Severity.ERROR,
    resource_types=("AWS::S3::Bucket",),
    category=Category.PCI_NETWORK,
    pci=("1.4.4",),
    checkov=("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
    cdk_nag=("AwsSolutions-S2", "PCI.DSS.321-S3BucketLevelPublicAccessProhibited"),
)
def bucket_public_access_not_blocked(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`PublicAccessBlockConfiguration` is absent (AWS's default: all on) or sets all four to true.

    Why:
        Block Public Access is the backstop against a public ACL or policy slipping through
        (PCI DSS 1.4.4; AWS maps S3.8 here). New buckets get all four settings since April
        2023 when the property is absent; a configuration that names some leaves the others
        off.

    Fix:
        `block_public_access=s3.BlockPublicAccess.BLOCK_ALL`.

    Example:
        s3.Bucket(self, "Receipts", block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
    """
    where = "Properties/PublicAccessBlockConfiguration"
    config = pick_branch(resource.prop("PublicAccessBlockConfiguration"), resource.template)
    if config is None:
        return
    if isinstance(config, Unresolved) or not isinstance(config, dict):
        reason = config.reason if isinstance(config, Unresolved) else "not an object"
        yield undecidable(f"PublicAccessBlockConfiguration cannot be read: {reason}", where)
        return
    off = []
    for key in BLOCK_SETTINGS:
        value = as_bool(config.get(key), resource.template)
        if isinstance(value, Unresolved):
            yield undecidable(f"{key} cannot be read: {value.reason}", f"{where}/{key}")
        elif not value:
            off.append(key)
    if off:
        yield violation(f"public access is not blocked: {', '.join(off)} off", where)
