"""HTTP paths shared by the policy module (inside Synapse) and the appservice."""

STATUS_PATH = "/_synapse/client/messenger/policy"
REFRESH_PATH = "/_synapse/client/messenger/policy/refresh"
VISIBLE_PATH = "/_messenger/policy/v1/visible-practices"
