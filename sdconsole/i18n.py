"""Provides gettext set-up: `_`, `ngettext`, `N_` and `set_language`; standard library only.

Strings are marked in English in the code; catalogues live in
``sdconsole/locale/<lang>/LC_MESSAGES`` as .po files in git and are compiled to .mo at install
time (``scripts/hatch_build.py``).
The language comes from the settings, else from the environment (LANGUAGE, LC_ALL, LC_MESSAGES,
LANG), else English.
"""

from __future__ import annotations

import functools
import gettext
import os
from pathlib import Path

DOMAIN = "sdconsole"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru")
"""Languages with a complete catalogue."""

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def language_from_environment(environ: dict[str, str] | None = None) -> str:
    """Pick a supported language from the POSIX locale variables, defaulting to English.

    As gettext does: the locale is the first set of LC_ALL, LC_MESSAGES, LANG; unless it is
    C/POSIX, the LANGUAGE priority list is consulted first.
    """
    env = os.environ if environ is None else environ
    locale = next((env[v] for v in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(v)), "")
    candidates = (
        [] if locale.split(".")[0] in ("C", "POSIX") else env.get("LANGUAGE", "").split(":")
    )
    for part in [*candidates, locale]:
        code = part.split(".")[0].split("_")[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def set_language(language: str | None) -> str:
    """Switch the process's UI language; `None` or "" means "from the environment".

    Returns:
        The language now in use.
    """
    global _translation, _language
    code = (language or language_from_environment()).split("_")[0].lower()
    if code not in LANGUAGES:
        code = "en"
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[code], fallback=True)
    _language = code
    return code


def current_language() -> str:
    """The language now in use."""
    return _language


@functools.cache
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def translate_to(language: str, message: str) -> str:
    """Translate `message` into `language` whatever the UI speaks: text that goes to a client."""
    code = language.split("_")[0].lower()
    return _catalogue(code if code in LANGUAGES else "en").gettext(message)


def _(message: str) -> str:
    """Translate `message` into the current language."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a count (Russian has three plural forms)."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it now (translated where shown)."""
    return message
