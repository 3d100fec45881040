"""HTTP paths shared by the policy module (inside Synapse) and the appservice."""

STATUS_PATH = "/_synapse/client/messenger/policy"
REFRESH_PATH = "/_synapse/client/messenger/policy/refresh"
POLICY_PREFIX = "/_messenger/policy/"
VISIBLE_PATH = "/_messenger/policy/v1/visible-practices"
INVITE_FACTS_PATH = "/_messenger/policy/v1/invite-facts"
ROLES_PATH = "/_messenger/policy/v1/roles"
LEAVE_THRESHOLD_PATH = "/_messenger/policy/v1/leave-threshold"
