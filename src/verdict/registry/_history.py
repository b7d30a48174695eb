"""An alias's history as a stack: each promotion pushes a version, each rollback pops one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def alias_stack(events: Iterable[Any]) -> list[int]:
    """The versions an alias moved through, newest last, with rolled-back ones popped.

    ``events`` are the alias's events oldest first, each with ``kind``, ``version`` and
    ``payload``; ``alias_removed`` empties the stack.
    """
    stack: list[int] = []
    for event in events:
        if event.kind == "alias_removed":
            stack.clear()
        elif event.kind == "rollback" and stack:
            stack.pop()
            if not stack or stack[-1] != event.version:
                stack.append(event.version)
        elif event.version is not None and (not stack or stack[-1] != event.version):
            stack.append(event.version)
    return stack
