"""Our bots are the appservice's users on our own server only."""

from messenger.namespace import BotNamespace


def test_a_remote_lookalike_is_not_one_of_our_bots() -> None:
    bots = BotNamespace("_messenger_", "kasse.example")
    assert "@_messenger_service:kasse.example" in bots
    assert "@_messenger_service:evil.example" not in bots
    assert "@erika:kasse.example" not in bots
