"""Provides the values a chat channel (Telegram) and the desk exchange: `Incoming`, `Reply`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file a message carries, as the Bot API describes it (not yet downloaded)."""

    file_id: str
    kind: str
    """``photo``, ``document``, ``voice``, ``video``, ``video_note``, ``audio``."""
    file_name: str
    mime_type: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update, as the desk needs it. Every text is untrusted."""

    update_id: int
    chat_id: str
    user_id: str
    name: str
    username: str | None
    message_id: str
    sent_at: datetime
    text: str = ""
    reply_to: str | None = None
    """The message this one replies to (its id in the chat)."""
    edited: bool = False
    edit_date: datetime | None = None
    files: tuple[IncomingFile, ...] = ()
    command: str | None = None
    """``start``, ``new``, ``status``, ``help`` (without the slash), or None."""
    argument: str = ""
    contact_phone: str | None = None
    contact_user_id: str | None = None
    callback_id: str | None = None
    callback_data: str | None = None
    private: bool = True
    raw: bytes = b""


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot answers at once (not through the outbox)."""

    text: str
    ask_contact: bool = False
    """Show the "share my phone number" button."""
    remove_keyboard: bool = False
    callback_answer: str | None = None
    """For a button press: the short notice Telegram shows (answerCallbackQuery)."""
    edit_markup: bool = False
    """For a button press: remove the buttons from the message pressed."""
    remember_as_rating_prompt: int | None = None
    """The sent reply is the "add a comment?" prompt of this ticket's rating."""
