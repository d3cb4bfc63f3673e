"""Periodic tasks: each app registers its own, `bookdesk worker` runs them all.

A task is a function taking no arguments, run about once a minute (WORKER_PERIODIC_SECONDS)
and returning something truthy when it did work (logged). Apps register theirs in their
AppConfig.ready(), so the worker needs to know none of them by name.
"""

from __future__ import annotations

from collections.abc import Callable

Task = Callable[[], object]

_registry: dict[str, Task] = {}


def task_name(task: Task) -> str:
    return f"{task.__module__}.{task.__qualname__}"


def register(task: Task) -> Task:
    """Run ``task`` periodically; registering the same function again changes nothing."""
    _registry[task_name(task)] = task
    return task


def registered() -> dict[str, Task]:
    """The registered tasks by dotted name, in the order they were registered."""
    return dict(_registry)
