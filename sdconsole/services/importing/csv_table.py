"""Provides the reading half of CSV import: encoding, delimiter, header aliases and row issues.

A file is UTF-8 (with or without a byte-order mark) or Windows-1251, as 1C writes it, or UTF-16
with a byte-order mark (Excel's "Unicode text"); the delimiter is ``;``, ``,`` or a tab (whichever
the header line uses most). Header names are matched case- and
whitespace-insensitively against each kind's English names and Russian aliases, and an unknown
column is an error: a typo must never silently drop a column's data. Line numbers are physical
lines of the file, the header being line 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sdconsole.domain.errors import ImportFailed
from sdconsole.i18n import N_, _

MAX_ISSUES = 50
"""Problems collected before the rest are only counted: enough to fix a file in one pass."""

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise(text: str) -> str:
    """A header or enumeration word as compared: lower case, ё as е, single spaces."""
    return _SEPARATORS.sub(" ", text.strip().lower().replace("ё", "е")).strip()


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem of an import file, at a physical line and (usually) a column."""

    line: int
    column: str | None
    template: str
    """An English ``str.format`` template marked with `N_`; translated when shown."""
    params: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        message = _(self.template).format(**self.params)
        if self.column is None:
            return _("line {line}: {message}").format(line=self.line, message=message)
        return _("line {line}, column {column}: {message}").format(
            line=self.line, column=self.column, message=message
        )


class ImportRowsFailed(ImportFailed):
    """An import file has problems; nothing was written. `issues` lists them, in file order."""

    def __init__(self, source: str, issues: Sequence[Issue], total: int) -> None:
        super().__init__(
            N_("{source}: nothing was imported; problems found: {count}."),
            source=source,
            count=total,
        )
        self.issues = list(issues)
        self.total = total
        """All problems found, including those beyond `MAX_ISSUES` that were not kept."""


class IssueLog:
    """Collects the problems of one file; only the first `MAX_ISSUES` are reported in full."""

    def __init__(self, source: str, columns: Sequence[str] = ()) -> None:
        self.source = source
        self.issues: list[Issue] = []
        self._order = {name: i for i, name in enumerate(columns)}
        """Column names as the file spells them, in file order: problems are listed that way."""

    @property
    def total(self) -> int:
        """How many problems were recorded."""
        return len(self.issues)

    def add(self, line: int, column: str | None, template: str, **params: object) -> None:
        """Record a problem of `line` (and `column`, as the file spells it)."""
        self.issues.append(Issue(line, column, template, params))

    def raise_if_any(self) -> None:
        """Raise `ImportRowsFailed` with the first `MAX_ISSUES` problems in file order, if any."""
        if self.issues:
            self.issues.sort(key=lambda i: (i.line, self._order.get(i.column or "", -1)))
            raise ImportRowsFailed(self.source, self.issues[:MAX_ISSUES], self.total)


class Columns:
    """The columns one import kind accepts: canonical English names and their aliases."""

    def __init__(self, aliases: Mapping[str, Sequence[str]], required: Sequence[str]) -> None:
        self.names = tuple(aliases)
        self.required = tuple(required)
        self._lookup: dict[str, str] = {}
        for name, names in aliases.items():
            for alias in (name, *names):
                key = normalise(alias)
                if self._lookup.setdefault(key, name) != name:
                    raise ValueError(f"alias {alias!r} names two columns")

    def canonical(self, header: str) -> str | None:
        """The column a header names, or None when unknown."""
        return self._lookup.get(normalise(header))


@dataclass(frozen=True, slots=True)
class Row:
    """One data record: its first physical line and its non-empty cells by canonical column."""

    line: int
    cells: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Table:
    """A parsed file: the header as written (canonical → original) and the data rows."""

    headers: Mapping[str, str]
    rows: Sequence[Row]

    def has(self, column: str) -> bool:
        """Whether the file has this column at all (an absent column leaves stored values alone)."""
        return column in self.headers

    def header(self, column: str) -> str:
        """The column's name as the file spells it (the canonical name when absent)."""
        return self.headers.get(column, column)


def decode(data: bytes, source: str) -> str:
    """The file's text: UTF-16 with a BOM, strict UTF-8 (an optional BOM dropped), else
    Windows-1251.

    Raises:
        ImportFailed: the bytes are none of these (NUL bytes: UTF-16 without a BOM, or binary).
    """
    candidates = ["utf-16"] if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else []
    if not candidates and b"\x00" not in data:
        candidates = ["utf-8-sig", "cp1251"]
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailed(
        N_(
            "{source}: the file is not UTF-8, UTF-16 or Windows-1251 text; save it from Excel "
            "or 1C as CSV in UTF-8 or Windows-1251."
        ),
        source=source,
    )


def sniff_delimiter(header_line: str) -> str:
    """``;``, ``,`` or a tab: whichever occurs most often in the header line outside quotes
    (``;`` on a tie)."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    return max((";", ",", "\t"), key=unquoted.count)


class _MalformedCsv(Exception):
    def __init__(self, line: int, detail: str) -> None:
        super().__init__(detail)
        self.line = line
        self.detail = detail


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield each record with the physical line it starts on (quoted cells may span lines).

    Raises:
        _MalformedCsv: a quoting error, with the line the reader had reached.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _MalformedCsv(reader.line_num, str(error)) from None
        yield start, record
        start = reader.line_num + 1


def read_table(data: bytes, columns: Columns, source: str) -> Table:
    """Decode and parse a file, map its header, and check the shape of every row.

    Raises:
        ImportRowsFailed: an unknown, repeated or missing column, a malformed or overlong row.
        ImportFailed: not text, or empty.
    """
    text = decode(data, source)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise ImportFailed(N_("{source}: the file is empty or has no header line."), source=source)
    delimiter = sniff_delimiter(first_line)
    log = IssueLog(source)
    records = _records(text, delimiter)
    try:
        _, header = next(records)
        by_position = _map_header(header, columns, log)
        log.raise_if_any()
        headers = {name: header[i].strip() for i, name in by_position.items()}
        rows: list[Row] = []
        for line, record in records:
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header):
                log.add(
                    line,
                    None,
                    N_(
                        "{found} values, but the header has {expected} columns "
                        "(an unquoted {delimiter} inside a value?)"
                    ),
                    found=len(record),
                    expected=len(header),
                    delimiter=delimiter,
                )
                continue
            for i in range(min(len(header), len(record))):
                if not header[i].strip() and record[i].strip():
                    log.add(
                        line,
                        None,
                        N_("a value under column {position}, which has no name"),
                        position=i + 1,
                    )
            cells = {
                name: record[i].strip()
                for i, name in by_position.items()
                if i < len(record) and record[i].strip()
            }
            rows.append(Row(line, cells))
    except _MalformedCsv as error:
        log.add(error.line, None, N_("malformed CSV: {detail}"), detail=error.detail)
    log.raise_if_any()
    return Table(headers, rows)


def _map_header(header: list[str], columns: Columns, log: IssueLog) -> dict[int, str]:
    """Canonical column per header position; problems go to `log` (all at line 1)."""
    by_position: dict[int, str] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for position, raw in enumerate(header):
        if not raw.strip():
            continue  # a trailing delimiter; a value under it is reported per row
        name = columns.canonical(raw)
        if name is None:
            unknown.append(raw.strip())
        elif name in seen:
            log.add(1, raw.strip(), N_("repeats the column {other}"), other=seen[name])
        else:
            seen[name] = raw.strip()
            by_position[position] = name
    if unknown:
        log.add(
            1,
            None,
            N_(
                "unknown columns: {columns}; accepted columns are: {known} "
                "(or their Russian names, see docs/import-formats.md)"
            ),
            columns=", ".join(unknown),
            known=", ".join(columns.names),
        )
    missing = [name for name in columns.required if name not in seen]
    if missing:
        log.add(1, None, N_("required columns missing: {columns}"), columns=", ".join(missing))
    return by_position
