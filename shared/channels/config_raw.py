"""What reading the channels' configuration shares: its error, the JSON object being read
with what errors call it, how a key is shown in an error (never a value), and where a value
may come from (inline, a file or an environment variable)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

# A channel's name: short, lower case, safe in logs, metrics labels and database rows.
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
# Keys are shown in errors only when they look like a setting's name: a URL or a secret
# pasted as a key stays out of sight.
_SHOWN_KEY = re.compile(r"^[a-z_]{1,40}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ChannelConfigError(ValueError):
    """The channels' configuration is wrong: the message names the channel or route, the
    key and what to do, never a URL, secret or password."""


def shown_key(key: object) -> str:
    """A key (or a word such as a type) as an error may show it."""
    if isinstance(key, str) and _SHOWN_KEY.match(key):
        return key
    return "(a key that is not a setting name)"


@dataclass(frozen=True)
class Raw:
    """One channel or route object of the JSON, with what errors call it (`channel "x"`,
    `route 3`) and the environment its `*_env` keys are read from."""

    where: str
    data: Mapping[str, object]
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def fail(self, problem: str) -> NoReturn:
        raise ChannelConfigError(f"{self.where}: {problem}")

    def known_keys(self, allowed: tuple[str, ...], what: str, hint: str = "") -> None:
        """Refuse keys `what` does not take (a typo would otherwise be silently ignored)."""
        unknown = [shown_key(key) for key in self.data if key not in allowed]
        if unknown:
            self.fail(
                f"unknown key(s) {', '.join(unknown)} for {what}{hint}; it takes "
                f"{', '.join(allowed)}"
            )


def source(raw: Raw, key: str) -> tuple[str, str] | None:
    """A value given inline (`key`), in a file (`key_file`) or in an environment variable
    (`key_env`), at most one of them, with the key it came from; None when none is given."""
    given = [k for k in (key, f"{key}_file", f"{key}_env") if k in raw.data]
    if len(given) > 1:
        raw.fail(f"give one of {key}, {key}_file and {key}_env, not {' and '.join(given)}")
    if not given:
        return None
    found = given[0]
    value = raw.data[found]
    if not isinstance(value, str) or not value:
        raw.fail(f"{found} must be a non-empty string")
    if found.endswith("_file"):
        return _read_file(raw, found, value), found
    if found.endswith("_env"):
        return _read_env(raw, found, value), found
    return value, found


def _read_file(raw: Raw, key: str, path: str) -> str:
    """A file's text without its trailing newline (as k8s Secret files often end)."""
    try:
        text, reason = Path(path).read_text(encoding="utf-8"), ""
    except (OSError, UnicodeDecodeError) as exc:  # refused below, outside this block, so the
        # error does not carry the OSError (and its path) along as its context
        text, reason = "", why_unreadable(exc)
    if reason:
        raw.fail(f"the file {key} names cannot be read ({reason}): mount it or fix the path")
    value = text.rstrip("\r\n")
    if not value:
        raw.fail(f"the file {key} names is empty: put the value in it")
    return value


def _read_env(raw: Raw, key: str, variable: str) -> str:
    if not _ENV_NAME.match(variable):
        raw.fail(f"{key} must name an environment variable (letters, digits and _)")
    value = raw.environ.get(variable, "").rstrip("\r\n")
    if not value:
        raw.fail(
            f"the environment variable {key} names is unset or empty: set it (e.g. from a "
            "k8s Secret) or fix the name"
        )
    return value


def why_unreadable(exc: OSError | UnicodeDecodeError) -> str:
    """Why a file could not be read, without its path (`No such file or directory`)."""
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return exc.strerror or "unreadable"
