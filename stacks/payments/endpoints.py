"""The platform's own endpoints (seed 000) on the payments API, built by the ``Payments`` stack.

They live in the stack that owns the API (a route in another stack would make a cross-stack
cycle); the stack is handed their settings (:class:`EndpointSettings`, sized like the
platform's functions) and builds them itself.

* ``GET /payments/{id}`` - the ``payment-status`` function (API key required, path parameter
  required by the method, the id's format checked by the function before DynamoDB is read);
* ``GET /health`` - a MOCK integration answering ``{"status": "ok"}``: no function, no cost per
  call beyond the API request itself.

With ``consolidated_api`` (the optimised profile) both are resources of the one REST API that
already serves ``/webhooks``. Without it (the legacy baseline) each service gets a REST API of
its own, as before the consolidation: ``payments-status-api-<suffix>`` and
``payments-health-api-<suffix>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import aws_apigateway as apigw
from constructs import Construct

import governance
from stacks.constructs.api_function import ApiWithFunction
from stacks.constructs.function import acknowledge_trade_offs
from stacks.constructs.platform_api import PlatformApi
from stacks.payments.settings import EndpointSettings

if TYPE_CHECKING:
    from stacks.payments.payments import PaymentsStack

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
#: The configuration key the endpoint functions are sized by.
RUNTIME_KEY = "platform.functions.runtime"


class PlatformEndpoints(Construct):
    """Status and health endpoints on the shared API, or on one API per service.

    Attributes: ``apis`` (label -> :class:`PlatformApi`, the webhook API included),
    ``routes`` (CloudFront path pattern -> the :class:`PlatformApi` serving it, for the edge
    distribution), ``status`` (the :class:`ApiWithFunction`), ``health_method``.
    """

    def __init__(
        self,
        scope: PaymentsStack,
        construct_id: str,
        *,
        settings: EndpointSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        payments = scope
        self.apis: dict[str, PlatformApi] = {"payments-api": payments.api}
        if settings.consolidated_api:
            status_api = health_api = payments.api
        else:
            status_api = self._api(payments, "StatusApi", "payments-status-api", "payment status")
            health_api = self._api(payments, "HealthApi", "payments-health-api", "health check")
            self.apis["payments-status-api"] = status_api
            self.apis["payments-health-api"] = health_api
        self.routes: dict[str, PlatformApi] = {"/payments/*": status_api, "/health": health_api}

        self.status = ApiWithFunction(
            self,
            "Status",
            api=status_api,
            path="/payments/{id}",
            http_method="GET",
            function_props={
                "function_name": payments.name("payment-status"),
                "code_dir": FUNCTIONS_DIR / "payment_status",
                "settings": settings.functions,
                "reserved_concurrency": settings.reserved_concurrency,
                "key": payments.key,
                "layers": [payments.layer],
                "environment": {"TABLE_NAME": payments.table.table_name},
                "description": "Answers GET /payments/{id} with a transaction's latest status",
            },
        )
        # API Gateway's validator rejects a request without the path parameter.
        cfn_method = self.status.method.node.default_child
        cfn_method.request_parameters = {"method.request.path.id": True}  # type: ignore[union-attr]
        function = self.status.function
        acknowledge_trade_offs(
            function,
            runtime=settings.functions.runtime,
            runtime_key=RUNTIME_KEY,
            apis="DynamoDB, KMS, X-Ray, CloudWatch Logs",
        )
        function.allow(["dynamodb:Query"], [payments.table.table_arn], sid="ReadTransactions")
        function.allow_key("kms:Decrypt", "kms:DescribeKey")

        health = health_api.api.root.resource_for_path("/health")
        self.health_method = health.add_method(
            "GET",
            apigw.MockIntegration(
                request_templates={"application/json": json.dumps({"statusCode": 200})},
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="200",
                        response_templates={"application/json": json.dumps({"status": "ok"})},
                    )
                ],
                passthrough_behavior=apigw.PassthroughBehavior.NEVER,
            ),
            method_responses=[apigw.MethodResponse(status_code="200")],
            api_key_required=False,
            authorization_type=apigw.AuthorizationType.NONE,
            request_validator=health_api.request_validator,
        )
        for rule_id in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            governance.acknowledge(
                self.health_method,
                rule_id,
                'GET /health is a MOCK integration that returns the constant {"status": "ok"}: '
                "it reaches no function or data store, so there is nothing to authorise; load "
                "balancers and uptime probes call it without credentials, and the WAF rate "
                "limit still applies.",
                plugin=None,
            )

    @staticmethod
    def _api(payments: PaymentsStack, construct_id: str, base: str, what: str) -> PlatformApi:
        return PlatformApi(
            payments,
            construct_id,
            api_name=payments.name(base),
            stage_name=payments.deployment.suffix,
            settings=payments.settings.api,
            key=payments.key,
            description=f"Payment platform {what} API (one API per service: legacy layout)",
        )
