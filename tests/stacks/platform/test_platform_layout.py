"""The layout a newcomer relies on: one module per stack, named after it, listed in docs/platform.md."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from platform_support import ROOT, platform

PAGE = (ROOT / "docs" / "platform.md").read_text()


def _module_name(stack_id: str) -> str:
    """``PaymentsCostVisibility`` -> ``cost_visibility``; ``Payments`` -> ``payments``."""
    rest = stack_id.removeprefix("Payments") or "Payments"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", rest).lower()


def test_each_stack_lives_in_the_module_named_after_it_and_the_docs_say_where() -> None:
    stacks = platform("production").stacks  # production builds every stack, the edge included
    # the payments and platform systems' own stacks (other systems test their layout themselves)
    ours = [
        s
        for s in stacks.values()
        if type(s).__module__.startswith(("stacks.payments.", "stacks.platform."))
    ]
    assert len(ours) == 11
    for stack in ours:
        stack_id = stack.node.id
        path = Path(sys.modules[type(stack).__module__].__file__ or "").relative_to(ROOT)
        assert path.stem == _module_name(stack_id), (stack_id, path)
        assert path.parts[:2] in {("stacks", "payments"), ("stacks", "platform")}, path
        assert f"| `{stack_id}` | `{path.as_posix()}` |" in PAGE, stack_id
