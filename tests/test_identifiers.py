"""The one definition of suffix, account id and region that policy, config and CLI share."""

from __future__ import annotations

import pytest

from governance.identifiers import is_account, is_region, is_suffix, known_regions


@pytest.mark.parametrize("value", ["dev", "pr42", "a", "feature-7", "x" * 20])
def test_good_suffixes(value: str) -> None:
    assert is_suffix(value)


@pytest.mark.parametrize(
    "value", ["", "dev\n", "Dev", "-dev", "dev-", "x" * 21, "pr 42", 42, None, ["dev"], "dév"]
)
def test_bad_suffixes(value: object) -> None:
    assert not is_suffix(value)


def test_accounts() -> None:
    assert is_account("111111111111")
    for bad in ("11111111111", "1111111111111", "111111111111\n", "١١١١١١١١١١١١", 111111111111):
        assert not is_account(bad)


def test_regions_are_aws_regions() -> None:
    assert known_regions(), "botocore's endpoint data should be readable here"
    assert is_region("us-east-1") and is_region("eu-central-2")
    for bad in ("xx-mars-1", "us-east-1\n", "US-EAST-1", "", None, "us-east-1 "):
        assert not is_region(bad)
