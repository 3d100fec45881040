"""Our Synapse module: the server-side rules, loaded by Synapse from the generated `modules:`.

It uses only `synapse.module_api` (never Synapse internals or tables). Import path for Synapse:
`messenger.policy.PolicyModule`. The class is imported lazily, so that the appservice and the CLI
can use `messenger.policy.paths` and `messenger.policy.rules` without loading Synapse.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PolicyConfig", "PolicyModule"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from messenger.policy import module

        return getattr(module, name)
    raise AttributeError(name)
