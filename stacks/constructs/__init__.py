"""Reusable constructs of the platform: each carries its secure defaults, settings come in typed.

Constructs never read configuration: a stack reads its section once into frozen dataclasses
(``FunctionSettings``, ``TableSettings``, ...) and passes them in, with the environment's KMS
key and the physical names (which carry the environment suffix).
"""

from stacks.constructs.api_function import ApiWithFunction
from stacks.constructs.bucket import AuditBucket, BucketSettings
from stacks.constructs.function import FunctionSettings, PlatformFunction
from stacks.constructs.layer import SharedLayer
from stacks.constructs.logs import encrypted_log_group, retention
from stacks.constructs.platform_api import ApiSettings, OriginCheck, PlatformApi, hardened_web_acl
from stacks.constructs.queue import QueueSettings, QueueWithDeadLetter
from stacks.constructs.table import EncryptedTable, TableSettings

__all__ = [
    "ApiSettings",
    "ApiWithFunction",
    "AuditBucket",
    "BucketSettings",
    "EncryptedTable",
    "FunctionSettings",
    "OriginCheck",
    "PlatformApi",
    "PlatformFunction",
    "QueueSettings",
    "QueueWithDeadLetter",
    "SharedLayer",
    "TableSettings",
    "encrypted_log_group",
    "hardened_web_acl",
    "retention",
]
