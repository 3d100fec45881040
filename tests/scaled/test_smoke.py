"""End-to-end smoke tests on the scaled deployment: the same tests as on the embedded one
(imported, so they cannot drift apart), with `system` the scaled deployment (conftest.py)."""

from __future__ import annotations

from tests.desk.test_desk_system import (
    test_a_concern_becomes_a_ticket_answered_both_ways_with_files,
)
from tests.directory.test_patient_search import (
    test_service_bot_search_in_german_and_english_with_paging,
)
from tests.requests.test_lifecycle import test_request_from_any_client_accepted_then_encrypted_chat
from tests.test_e2e_chat import (
    test_patient_and_practice_exchange_e2e_messages_and_no_plaintext_is_stored,
)

__all__ = [
    "test_a_concern_becomes_a_ticket_answered_both_ways_with_files",
    "test_patient_and_practice_exchange_e2e_messages_and_no_plaintext_is_stored",
    "test_request_from_any_client_accepted_then_encrypted_chat",
    "test_service_bot_search_in_german_and_english_with_paging",
]
