"""``ApiWithFunction``: a :class:`PlatformFunction` served on one route of a :class:`PlatformApi`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from stacks.constructs.function import PlatformFunction
from stacks.constructs.platform_api import PlatformApi


class ApiWithFunction(Construct):
    """The function (``function``) and its route (``method``) on the shared API.

    ``function_props`` are :class:`PlatformFunction`'s keyword arguments.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: PlatformApi,
        path: str,
        http_method: str,
        function_props: Mapping[str, Any],
        request_schema: Mapping[str, Any] | None = None,
        api_key_required: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = PlatformFunction(self, "Handler", **function_props)
        self.method: apigw.Method = api.add_function_route(
            path,
            http_method,
            self.function.function,
            api_key_required=api_key_required,
            request_schema=request_schema,
        )
