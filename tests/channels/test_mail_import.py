"""`sdconsole mail import`: an .eml file, a folder, an mbox and a Maildir, each taken once."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from sdconsole.cli.main import app
from sdconsole.storage import Store
from sdconsole.storage.tables import Inbound, Ticket
from tests.channels.test_imap_intake import letter


def import_(store: Store, path: Path) -> dict[str, int]:
    result = CliRunner().invoke(app, ["--db", store.url, "mail", "import", str(path)])
    assert result.exit_code == 0, result.output
    outcome: dict[str, int] = json.loads(result.stdout)
    return outcome


def tickets(store: Store) -> int:
    with store.reader() as session:
        return int(session.execute(select(func.count()).select_from(Ticket)).scalar_one())


def test_every_kind_of_mail_file_is_imported_once(sqlite_store: Store, tmp_path: Path) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(letter(1))
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.eml").write_bytes(letter(2))
    (folder / "sub" / "b.eml").write_bytes(letter(3, reply_to="letter-2@shop7.example"))
    box = mailbox.mbox(tmp_path / "old.mbox")
    for n in (4, 5):
        box.add(letter(n))
    box.close()
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    for n in (6, 7):
        maildir.add(letter(n))

    assert import_(sqlite_store, eml) == {"created": 1}
    assert import_(sqlite_store, folder) == {"appended": 1, "created": 1}
    assert import_(sqlite_store, tmp_path / "old.mbox") == {"created": 2}
    assert import_(sqlite_store, tmp_path / "Maildir") == {"created": 2}
    assert tickets(sqlite_store) == 6
    # Again, all of it: recognised, nothing new.
    for path in (eml, folder, tmp_path / "old.mbox", tmp_path / "Maildir"):
        assert set(import_(sqlite_store, path)) == {"duplicate"}
    assert tickets(sqlite_store) == 6
    with sqlite_store.reader() as session:
        assert session.execute(select(func.count()).select_from(Inbound)).scalar_one() == 7


def test_a_missing_path_is_a_clear_error(sqlite_store: Store, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--db", sqlite_store.url, "mail", "import", str(tmp_path / "nope")]
    )
    assert result.exit_code != 0
    assert "No such file or folder" in result.stderr
