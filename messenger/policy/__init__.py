"""Our Synapse module: the server-side rules, loaded by Synapse from the generated `modules:`.

It uses only `synapse.module_api` (never Synapse internals or tables). Import path for Synapse:
`messenger.policy.PolicyModule`.
"""

from messenger.policy.module import PolicyConfig, PolicyModule

__all__ = ["PolicyConfig", "PolicyModule"]
