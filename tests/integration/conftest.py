"""Integration fixtures: a deployment's flat outputs, or a local stand-in built from the template.

With ``cfn-outputs/flat-outputs.json`` (or ``$FLAT_OUTPUTS``) present, ``outputs`` is that file and
``pipeline`` talks to the deployment: HTTPS to the webhook URL (API key from
``$PAYMENTS_API_KEY``), boto3 with the ambient credentials, Lambda running the event sources.
Without it - always, here - a moto server on 127.0.0.1 gets the resources the synthesized dev
``Payments`` template declares (``stand_in.build``), ``outputs`` is the template's outputs resolved
against them, and ``pipeline`` plays API Gateway and the event source mappings around the real
handlers. The tests read every name from ``outputs`` and so run unchanged in both cases.
"""

from __future__ import annotations

import json
import logging
import os
import secrets as random_secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "stacks" / "layer" / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stand_in  # noqa: E402

FLAT_OUTPUTS = Path(os.environ.get("FLAT_OUTPUTS", ROOT / "cfn-outputs" / "flat-outputs.json"))


class DeployedPipeline:
    """A real deployment: HTTPS to the API, Lambda runs the event sources (we wait)."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={**headers, "x-api-key": self.api_key}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - https URL from outputs
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def pump(self, rounds: int = 1) -> None:
        time.sleep(5 * rounds)


@pytest.fixture(scope="session")
def deployed() -> bool:
    return FLAT_OUTPUTS.is_file()


@pytest.fixture(scope="session")
def local_aws(deployed: bool) -> Iterator[str | None]:
    """A moto server on 127.0.0.1 for the stand-in (None against a deployment)."""
    if deployed:
        yield None
        return
    from moto.server import ThreadedMotoServer

    patch = pytest.MonkeyPatch()
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        patch.delenv(var)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": stand_in.REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }.items():
        patch.setenv(key, value)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    patch.setenv("AWS_ENDPOINT_URL", url)
    try:
        yield url
    finally:
        server.stop()
        patch.undo()


@pytest.fixture(scope="session")
def payments_template(synth_platform) -> dict[str, Any]:
    """The synthesized dev ``Payments`` template (the real ``cdk synth`` output)."""
    out = synth_platform("dev")
    return json.loads((out / "Payments.template.json").read_text())


@pytest.fixture(scope="session")
def environment(deployed: bool, local_aws: str | None, request) -> dict[str, Any]:
    """``outputs`` (flat outputs), ``pipeline`` and the providers' signing secrets."""
    if deployed:
        import boto3

        outputs = json.loads(FLAT_OUTPUTS.read_text())
        sm = boto3.client("secretsmanager")
        names = json.loads(outputs["SigningSecretNames"])
        signing = {p: sm.get_secret_value(SecretId=n)["SecretString"] for p, n in names.items()}
        pipeline: Any = DeployedPipeline(os.environ["PAYMENTS_API_KEY"])
        return {"outputs": outputs, "pipeline": pipeline, "secrets": signing}
    template = request.getfixturevalue("payments_template")
    providers = json.loads(template["Outputs"]["SigningSecretNames"]["Value"])
    signing = {p: random_secrets.token_hex(32) for p in providers}
    built = stand_in.build(local_aws, template, signing)
    outputs = built.outputs()
    pipeline = stand_in.LocalPipeline(built, api_key=random_secrets.token_urlsafe(30))
    return {"outputs": outputs, "pipeline": pipeline, "secrets": signing, "stand_in": built}


@pytest.fixture
def outputs(environment) -> dict[str, str]:
    return environment["outputs"]


@pytest.fixture
def pipeline(environment) -> Any:
    return environment["pipeline"]


@pytest.fixture
def api_headers(environment) -> dict[str, str]:
    pipeline = environment["pipeline"]
    return {"x-api-key": pipeline.api_key, "Content-Type": "application/json"}
