"""Our Synapse module: the server-side rules. Loaded by Synapse from the generated `modules:` config.

It uses only `synapse.module_api` (never Synapse internals or tables). Import path for Synapse:
`messenger.policy.PolicyModule`.
"""

from messenger.policy.module import PolicyConfig, PolicyModule

__all__ = ["PolicyConfig", "PolicyModule"]
