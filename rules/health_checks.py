"""Health checks (PCI DSS 12.10.1): a failover is only as good as the check that triggers it.

Route 53 health checkers send a plain `GET` with no API key and no AWS signature. A health check
whose `ResourcePath` is an API Gateway route that requires an API key (or has no `GET` method at
all) receives 403 from every checker, so the region is marked unhealthy for ever and a failover
record never answers with it, or, aimed at the only region, takes the service off DNS. The
rule follows the path to the REST API methods of the templates judged in the same run (the
execute-api host names the region; a leading path segment may be the stage). The mapping of the
incident-response plan's failover step to 12.10.1 is ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_bool, as_str, literal_text, ref_target
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource, Template
from rules._support import memo

_EXECUTE_API = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")

#: (region or None, api logical id, stages, path, HTTP method, api key required or Unresolved)
Route = tuple[str | None, str, frozenset[str], str, str, Any]


def _region(template: Template) -> str | None:
    env = getattr(template, "environment", None) or ""
    region = env.rpartition("/")[2] if env.startswith("aws://") else ""
    return region or None


def _path(template: Template, resource_ref: Any, depth: int = 0) -> str | None:
    """The path of an ``AWS::ApiGateway::Resource`` (``/a/b``), ``/`` for the root."""
    target = ref_target(resource_ref)
    if isinstance(resource_ref, dict) and "Fn::GetAtt" in resource_ref:
        return "/"  # RestApi.RootResourceId
    if target is None or target not in template.resources or depth > 20:
        return None
    res = template.resources[target]
    part = as_str(res.prop("PathPart"), template)
    parent = _path(template, res.prop("ParentId"), depth + 1)
    if not isinstance(part, str) or parent is None:
        return None
    return parent.rstrip("/") + "/" + part


def _routes(template: Template) -> list[Route]:
    stages: dict[str, set[str]] = {}
    for stage in template.of_type("AWS::ApiGateway::Stage"):
        api = ref_target(stage.prop("RestApiId"))
        name = as_str(stage.prop("StageName"), template)
        if api and isinstance(name, str):
            stages.setdefault(api, set()).add(name)
    routes: list[Route] = []
    for method in template.of_type("AWS::ApiGateway::Method"):
        api = ref_target(method.prop("RestApiId")) or ""
        path = _path(template, method.prop("ResourceId"))
        verb = as_str(method.prop("HttpMethod"), template)
        if path is None or not isinstance(verb, str):
            continue
        keyed = as_bool(method.prop("ApiKeyRequired", default=False), template)
        region = _region(template)
        routes.append((region, api, frozenset(stages.get(api, ())), path, verb.upper(), keyed))
    return routes


def _run_routes(template: Template) -> list[Route]:
    siblings = getattr(template, "siblings", None) or [template]
    routes: list[Route] = []
    for tpl in siblings:
        routes.extend(memo(tpl, "health_check_routes", _routes))
    return routes


def _matches(route: Route, path: str) -> bool:
    _, _, stages, route_path, _, _ = route
    if route_path == path:
        return True
    first, _, rest = path.lstrip("/").partition("/")
    return first in stages and route_path == "/" + rest


@rule(
    id="HC-001",
    slug="health-check-behind-api-key",
    title="Health checks target a path the checkers can call",
    severity=Severity.ERROR,
    resource_types=("AWS::Route53::HealthCheck",),
    category=Category.RELIABILITY,
    pci=("12.10.1",),
)
def health_check_behind_api_key(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """An HTTP(S) health check's `ResourcePath` is not an API route that needs an API key.

    Why:
        Route 53 checkers send `GET` without `x-api-key`: on a keyed route (or one without `GET`)
        every check gets 403, the region never counts as healthy, and failover cannot work.

    Fix:
        Add an unauthenticated `GET /health` that reports the region's status (no data) and
        point the check at it; keep the payment routes behind the key.

    Example:
        api.root.add_resource("health").add_method("GET", integration, api_key_required=False)
    """
    config = resource.prop("HealthCheckConfig") or {}
    kind = as_str(config.get("Type"), resource.template)
    if not isinstance(kind, str) or not kind.startswith(("HTTP", "HTTPS")):
        return
    path = as_str(config.get("ResourcePath"), resource.template)
    where = "Properties/HealthCheckConfig/ResourcePath"
    if isinstance(path, Unresolved):
        yield undecidable(f"the health check's path cannot be read: {path.reason}", where)
        return
    path = (path or "/").split("?", 1)[0]
    host = literal_text(config.get("FullyQualifiedDomainName"))
    found = _EXECUTE_API.search(host)
    if found is None:
        return  # not an execute-api host: no route of ours to judge
    region = found.group(1)
    routes = [
        r for r in _run_routes(resource.template) if r[0] in (region, None) and _matches(r, path)
    ]
    if not routes:
        return
    gets = [r for r in routes if r[4] in ("GET", "ANY")]
    if not gets:
        verbs = ", ".join(sorted({r[4] for r in routes}))
        yield violation(
            f"{path} answers only {verbs}: the checkers' GET gets 403 (Missing Authentication "
            "Token)",
            where,
        )
    elif all(r[5] is True for r in gets):
        yield violation(
            f"GET {path} requires an API key, which Route 53 checkers do not send: every check "
            "gets 403",
            where,
        )
    elif any(isinstance(r[5], Unresolved) for r in gets):
        yield undecidable(f"whether GET {path} requires an API key cannot be read", where)
