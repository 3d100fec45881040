"""`messenger export` against the real Synapse: a patient's care chat, decrypted on the patient's
side with keys from an Element key-export file or the server-side key backup."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tests.export.export_chat import PDF, PNG, CareChat, chat_pair, converse
from tests.key_backup import back_up_keys
from tests.system import System, messenger_cli

PASSPHRASE = "Korrekt Pferd Batterie 7"


def export(system: System, user: dict[str, Any], *args: str, **env: str) -> Any:
    return messenger_cli(
        "export", "--user", user["user_id"], "--homeserver", system.hs_url, *args,
        check=False, env={"MESSENGER_PASSWORD": user["password"], **env},
    )  # fmt: skip


class Page(HTMLParser):
    """The text of each element with a class, and the attachment links and images."""

    def __init__(self) -> None:
        super().__init__()
        self.classes: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._open.append(values.get("class") or "")
        if tag == "a" and values.get("href", "").startswith("attachments/"):  # type: ignore[union-attr]
            self.links.append(str(values["href"]))
        if tag == "img":
            self.images.append(str(values["src"]))

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag not in ("br", "img", "meta"):
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] and data.strip():
            self.classes.append((self._open[-1], data.strip()))


async def test_a_care_chat_is_exported_as_html_text_and_json_with_its_attachments(
    system: System, e2e_user: Any, tmp_path: Path
) -> None:
    patient_account, patient, practice, room = await chat_pair(
        system, e2e_user, "Erika Export", "Praxis Dr. Export"
    )
    chat = CareChat(room, patient, practice)
    await converse(system, chat)
    keys = tmp_path / "element-keys.txt"
    await patient.client.export_keys(str(keys), PASSPHRASE)

    out = tmp_path / "export.zip"
    result = export(system, patient_account, "--room", chat.room, "--format", "html,txt",
                    "--format", "json", "--keys", str(keys), "--out", str(out), "--json",
                    MESSENGER_EXPORT_PASSPHRASE=PASSPHRASE)  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["messages"] == 6 and summary["undecryptable"] == 0
    assert summary["attachments"] == 2 and summary["omitted_attachments"] == 0
    [folder_summary] = summary["chats"]
    assert folder_summary["name"] == "Praxis Dr. Export"
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(out).extractall(unpacked)
    folder = unpacked / folder_summary["folder"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "attachments", "chat.json", "chat.txt", "messages.html"
    ]  # fmt: skip
    stamp = r"^\d{4}-\d\d-\d\d_\d{6}-"  # the message's local time, then the file's name
    files = {re.sub(stamp, "", p.name): p.read_bytes() for p in (folder / "attachments").iterdir()}
    assert files == {"roentgen.png": PNG, "Befund_2026.pdf": PDF}  # byte-identical, decrypted

    page = Page()
    page.feed((folder / "messages.html").read_text())
    texts = dict(page.classes)
    shown = [text for _, text in page.classes]
    assert texts["body deleted"] == "Nachricht gelöscht"
    assert "Vielen Dank!" in shown and "(bearbeitet)" in shown and "Vielen Dnak!" not in shown
    assert "Gern, der Befund ist unauffällig." in shown
    assert "Antwort auf Erika Export" in shown  # the reply's quote, with whom it answers
    assert all("0301234567" not in text for text in shown)  # the deleted text is gone
    assert any(src.endswith("roentgen.png") for src in page.images)
    assert any(href.endswith("Befund_2026.pdf") for href in page.links)

    text = (folder / "chat.txt").read_text()
    assert "Erika Export: Vielen Dank! (bearbeitet)" in text
    assert "[Nachricht gelöscht]" in text and "Datei: Befund 2026.pdf → attachments/" in text

    data = json.loads((folder / "chat.json").read_text())
    assert data["roomId"] == chat.room and data["roomName"] == "Praxis Dr. Export"
    messages = {m["eventId"]: m for m in data["messages"]}
    first = messages[chat.ids["first"]]
    assert first["senderId"] == patient.user_id and first["text"].startswith("Guten Tag")
    assert datetime.fromisoformat(first["originServerTs"]).tzinfo is not None
    assert messages[chat.ids["typo"]]["edited"] is True
    assert messages[chat.ids["secret"]]["type"] == "deleted"
    assert messages[chat.ids["reply"]]["replyTo"]["eventId"] == chat.ids["first"]
    assert messages[chat.ids["pdf"]]["attachment"]["mimetype"] == "application/pdf"

    # the exporter's own device is logged out again
    status, devices = await patient.api("GET", "/_matrix/client/v3/devices")
    assert status == 200 and "Chat-Export" not in {
        d.get("display_name") for d in devices["devices"]
    }

    # date filters: from the cut on, the first message is left out (the reply quotes around it)
    cut = datetime.fromtimestamp(chat.cut_ms / 1000, UTC).isoformat()
    later = tmp_path / "later"
    result = export(system, patient_account, "--room", "Praxis Dr. Export", "--since", cut,
                    "--format", "txt", "--keys", str(keys), "--out", str(later),
                    "--no-attachments", MESSENGER_EXPORT_PASSPHRASE=PASSPHRASE)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Export fertig: 1 Chat(s), 5 Nachrichten, 0 Anhänge" in result.stdout
    [later_folder] = later.iterdir()
    text = (later_folder / "chat.txt").read_text()
    assert "Frage zum Befund" not in text.split("Antwort auf eine Nachricht")[0]
    assert "Antwort auf eine Nachricht außerhalb dieses Exports" in text
    assert "nicht exportiert (Export ohne Anhänge)" in text and "Zeitraum:" in text
    # a size limit keeps what fits (the newest first) and marks the rest
    limited = tmp_path / "limited"
    result = export(system, patient_account, "--room", chat.room, "--format", "json",
                    "--max-size", "1KB", "--keys", str(keys), "--out", str(limited), "--json",
                    MESSENGER_EXPORT_PASSPHRASE=PASSPHRASE)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["omitted_attachments"] == 1
    [limited_folder] = limited.iterdir()
    files = {m["eventId"]: m.get("attachment") for m in
             json.loads((limited_folder / "chat.json").read_text())["messages"]}  # fmt: skip
    assert (
        files[chat.ids["pdf"]]["omitted"] == "size_limit" and files[chat.ids["pdf"]]["path"] is None
    )
    assert files[chat.ids["image"]]["path"].endswith("roentgen.png")
    earlier = tmp_path / "earlier"
    result = export(system, patient_account, "--room", chat.room, "--until", cut, "--format",
                    "json", "--keys", str(keys), "--out", str(earlier),
                    MESSENGER_EXPORT_PASSPHRASE=PASSPHRASE)  # fmt: skip
    assert result.returncode == 0, result.stderr
    [earlier_folder] = earlier.iterdir()
    kept = json.loads((earlier_folder / "chat.json").read_text())["messages"]
    assert [m["text"] for m in kept if m["type"] == "text"] == [
        "Guten Tag, ich habe eine Frage zum Befund."
    ]


async def test_the_key_backup_opens_a_chat_and_a_missing_key_is_counted_once(
    system: System, e2e_user: Any, tmp_path: Path
) -> None:
    patient_account, patient, practice, room = await chat_pair(
        system, e2e_user, "Bernd Backup", "Praxis Backup"
    )
    await patient.send_text(room, "Nachricht eins")
    await practice.wait_for_message(room, "Nachricht eins")
    recovery_key = await back_up_keys(patient)  # kept in secret storage, as Element does
    await practice.send_text(room, "Nachricht zwei, nach dem Backup")  # a key the backup lacks
    await patient.wait_for_message(room, "nach dem Backup")

    result = export(system, patient_account, "--room", room, "--format", "txt", "--out",
                    str(tmp_path / "a"), MESSENGER_RECOVERY_KEY=recovery_key)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 Nachricht konnte nicht entschlüsselt werden — fehlender Schlüssel" in result.stdout
    [folder] = (tmp_path / "a").iterdir()
    text = (folder / "chat.txt").read_text()
    assert "Bernd Backup: Nachricht eins" in text
    assert (
        "Praxis Backup: [Nachricht konnte nicht entschlüsselt werden (fehlender Schlüssel)]" in text
    )
    assert "nach dem Backup" not in text

    # an older client's backup: the recovery key is the backup key itself
    direct_key = await back_up_keys(patient, in_secret_storage=False)
    result = export(system, patient_account, "--room", room, "--format", "json", "--out",
                    str(tmp_path / "b"), "--json", MESSENGER_RECOVERY_KEY=direct_key)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["undecryptable"] == 0  # this backup has both keys
    # the first recovery key opens secret storage, which still holds the older backup's key
    result = export(system, patient_account, "--room", room, "--out", str(tmp_path / "c"),
                    MESSENGER_RECOVERY_KEY=recovery_key)  # fmt: skip
    assert result.returncode == 1 and "older backup" in result.stderr
    assert not (tmp_path / "c").exists()


async def test_bad_credentials_keys_or_rooms_give_a_clear_error_and_write_nothing(
    system: System, e2e_user: Any, tmp_path: Path
) -> None:
    patient_account, patient, _practice, room = await chat_pair(
        system, e2e_user, "Clara Fehler", "Praxis Fehler"
    )
    await patient.send_text(room, "Hallo")
    keys = tmp_path / "keys.txt"
    await patient.client.export_keys(str(keys), PASSPHRASE)
    out = tmp_path / "out" / "export.zip"
    out.parent.mkdir()
    ok = {"MESSENGER_EXPORT_PASSPHRASE": PASSPHRASE}
    cases = [
        ((), {"MESSENGER_PASSWORD": "falsch", **ok}, "wrong user name or password"),
        ((), {"MESSENGER_EXPORT_PASSPHRASE": "falsch"}, "wrong passphrase"),
        ((), {"MESSENGER_ACCESS_TOKEN": "abgelaufen", **ok}, "access token refused"),
        (("--room", "!unbekannt:nirgends"), ok, "not in the chat"),
        (("--room", "Praxis Unbekannt"), ok, "no chat called 'Praxis Unbekannt'"),
        (("--format", "pdf"), ok, "allowed are html, txt, json"),
        (("--since", "gestern"), ok, "is not a date"),
        (("--max-size", "viel"), ok, "is not a size"),
    ]
    for extra, env, expected in cases:
        args = ("--room", room, "--keys", str(keys), "--out", str(out), *extra)
        result = export(system, patient_account, *args, **env)
        assert result.returncode != 0, (extra, result.stdout)
        assert expected in result.stderr, (expected, result.stderr)
        assert list(out.parent.iterdir()) == [], extra  # no partial file, no staging folder
    newcomer = system.add_account("patient", "Nora Neu")  # has joined nothing yet
    nothing = export(system, newcomer, "--all", "--keys", str(keys), "--out", str(out), **ok)
    assert nothing.returncode != 0 and "you are in no chat yet" in nothing.stderr
    assert list(out.parent.iterdir()) == []
    no_keys = export(system, patient_account, "--room", room, "--out", str(out))
    assert no_keys.returncode != 0 and "no room keys" in no_keys.stderr
    out.write_bytes(b"schon da")
    exists = export(system, patient_account, "--room", room, "--keys", str(keys), "--out",
                    str(out), **ok)  # fmt: skip
    assert exists.returncode != 0 and "exists already" in exists.stderr
    assert out.read_bytes() == b"schon da"
