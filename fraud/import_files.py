"""Reading the ML pipeline's import files within bounds (the fraud admin's imports).

django-import-export reads a whole file into a dataset before anything can count its rows,
and an XLSX is a zip whose upload cap (``IMPORT_MAX_BYTES``) measures compressed bytes: a
250 KB workbook held 300,000 rows, parsed whole (seconds, hundreds of MB) only to be refused
for its row count (issue 20). Here:

* an XLSX's zip directory is checked before any member is unpacked: too many members, more
  than :data:`~fraud.conf.IMPORT_MAX_UNPACKED_BYTES` unpacked, or a big member that deflates
  suspiciously well, and it is refused. The sizes are the ones the directory declares;
  Python's ``zipfile`` never unpacks more than that (a member that holds more fails its
  CRC check), so the declared sizes bound the work;
* every part is then walked as XML in constant memory (:func:`scan_xml_parts`), and a shape
  that openpyxl would hold in memory whole (too deep, a row of too many cells, too many
  elements outside the rows) is refused;
* a sheet is then read streamed (openpyxl read-only, values only, its declared dimension
  not looked for), at most :data:`~fraud.conf.IMPORT_MAX_COLUMNS` columns wide, and refused as soon
  as it has one row more than the cap: at most ``max_rows + 1`` rows after the header are read;
* a CSV (already bounded by the upload cap) is read the same way, row by row, and stops at
  the same point instead of building the whole dataset first.

Both return the same :class:`tablib.Dataset` django-import-export's own CSV and XLSX
formats build (first row the headers; a CSV's short rows padded, its blank lines skipped),
so the resources' row-by-row validation is unchanged. A refusal is a :class:`RefusedFile`
whose message is the form error.
"""

from __future__ import annotations

import csv
import io
import zipfile
from xml.etree.ElementTree import ParseError

import tablib
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from fraud import conf

# Only members this big are held to the compression ratio: small XML parts deflate well.
RATIO_CHECKED_FROM = 1024 * 1024
# The shape of a workbook's XML (scan_xml_parts), far past what a spreadsheet holds: a part
# is about six levels deep; a row of IMPORT_MAX_COLUMNS cells a few hundred elements, rich
# text included; the largest part besides the sheets, the shared strings of 10,000 rows,
# about 100,000 elements.
MAX_XML_DEPTH = 64
MAX_ELEMENTS_PER_ROW = 5_000
MAX_ELEMENTS_OUTSIDE_ROWS = 250_000
ROW_TAG = f"{{{SHEET_MAIN_NS}}}row"


class RefusedFile(ValueError):
    """A file refused before or while it is read; the message says why, for the form."""


class TooManyRows(RefusedFile):
    pass


def too_many_rows(max_rows: int) -> TooManyRows:
    return TooManyRows(
        f"The file has more than {max_rows:,} rows; at most {max_rows:,} are imported at once. "
        "Split it into smaller files."
    )


def read_csv(text: str, *, max_rows: int) -> tablib.Dataset:
    """The dataset of a CSV text (tablib's own rules), refused past ``max_rows`` data rows,
    which are counted, as tablib's ``Dataset.height`` would, without the blank lines."""
    rows = csv.reader(io.StringIO(text))
    dataset = tablib.Dataset()
    header = next(rows, None)
    if header is None:
        return dataset
    dataset.headers = header
    read = 0
    for row in rows:
        if not row:
            continue
        read += 1
        if read > max_rows:
            raise too_many_rows(max_rows)
        if len(row) < dataset.width:
            row += [""] * (dataset.width - len(row))
        dataset.append(row)
    return dataset


def check_xlsx_package(data: bytes) -> None:
    """Refuse a workbook from its zip directory alone (nothing is unpacked): not a zip, too
    many members, too much unpacked, or a big member deflated past the ratio."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as e:
        raise RefusedFile("The file is not an XLSX workbook (not a zip archive).") from e
    if len(members) > conf.IMPORT_MAX_ZIP_MEMBERS:
        raise RefusedFile(
            f"The workbook has {len(members):,} parts; an XLSX file has at most {conf.IMPORT_MAX_ZIP_MEMBERS}."
        )
    unpacked = sum(member.file_size for member in members)
    if unpacked > conf.IMPORT_MAX_UNPACKED_BYTES:
        raise RefusedFile(
            f"The workbook unpacks to {filesizeformat(unpacked)}; at most "
            f"{filesizeformat(conf.IMPORT_MAX_UNPACKED_BYTES)} can be imported at once. Split it into smaller files."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECKED_FROM and ratio > conf.IMPORT_MAX_COMPRESSION_RATIO:
            raise RefusedFile(
                f"The workbook's part {member.filename!r} unpacks {ratio:,.0f} times bigger than it is stored; "
                "a spreadsheet's data does not compress so well. Export the data again, as CSV if you can."
            )


def scan_xml_parts(data: bytes, *, max_rows: int) -> None:
    """Walk every part of the workbook as XML, in constant memory, and refuse a shape that would
    cost openpyxl memory out of proportion to the file: openpyxl builds the workbook, styles
    and relationship parts as whole trees, keeps a sheet's elements that are not rows, and a
    row's cells, in memory (a 2 MB file of one row of 1.5 million cells took 850 MB). A part
    that is not XML is passed over: openpyxl would stop at the same byte. A sheet is walked
    only as far as openpyxl will read it (the header and ``max_rows + 1`` rows)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            with archive.open(member) as source:
                _scan_part(source, member.filename, max_rows=max_rows)


def _scan_part(source, name: str, *, max_rows: int) -> None:
    open_elements: list = []
    row_depth = None  # depth of the open <row>, if any
    in_row = outside_rows = rows = 0
    try:
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                open_elements.append(element)
                if len(open_elements) > MAX_XML_DEPTH:
                    raise RefusedFile(f"The workbook's part {name!r} nests deeper than a spreadsheet does.")
                if row_depth is not None:
                    in_row += 1
                    if in_row > MAX_ELEMENTS_PER_ROW:
                        raise RefusedFile(f"A row of the workbook's part {name!r} has too many cells.")
                elif element.tag == ROW_TAG:
                    row_depth, in_row = len(open_elements), 0
                else:
                    outside_rows += 1
                    if outside_rows > MAX_ELEMENTS_OUTSIDE_ROWS:
                        raise RefusedFile(f"The workbook's part {name!r} has too many elements.")
                continue
            open_elements.pop()
            if row_depth is not None and len(open_elements) >= row_depth:
                continue  # inside a row: kept until the row ends
            if element.tag == ROW_TAG:
                row_depth, rows = None, rows + 1
                if rows > max_rows + 1:
                    return  # the header and max_rows + 1 rows: openpyxl's read stops there
            if open_elements:
                open_elements[-1].remove(element)  # done with: memory stays constant
    except ParseError:
        return


class _UnsizedSheet(ReadOnlyWorksheet):
    """A read-only sheet that does not look for its declared ``<dimension>``: when a sheet
    declares none, openpyxl looks for it by parsing the whole sheet as it opens the workbook
    (all 60 MB of XML of the 300,000-row file, before a single row is read). The sheet is
    read from row 1 and column A; its width is given to ``iter_rows`` (a declared
    ``A1:XFD1048576`` would otherwise pad every row to 16,384 cells)."""

    def _get_size(self):
        pass


class _StreamingReader(ExcelReader):
    """openpyxl's reader (``load_workbook(read_only=True)``) with :class:`_UnsizedSheet` sheets."""

    def read_worksheets(self):
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            worksheet = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


def read_xlsx(data: bytes, *, max_rows: int) -> tablib.Dataset:
    """The dataset of the workbook's active sheet (as django-import-export's XLSX format builds
    it), after :func:`check_xlsx_package`, read streamed and refused past ``max_rows`` rows."""
    check_xlsx_package(data)
    try:
        scan_xml_parts(data, max_rows=max_rows)
        reader = _StreamingReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read()
    except zipfile.BadZipFile as e:  # e.g. a part holding more than the directory declares
        raise RefusedFile(f"The workbook is damaged ({e}).") from e
    book = reader.wb
    try:
        sheet = book.active
        rows = sheet.iter_rows(max_col=conf.IMPORT_MAX_COLUMNS + 1, values_only=True)
        dataset = tablib.Dataset()
        header = next(rows, None)
        if header is None:
            return dataset
        width = max((i + 1 for i, value in enumerate(header) if value is not None), default=0)
        if width == 0:
            return dataset  # no headers: the import says there is no valid data
        if width > conf.IMPORT_MAX_COLUMNS:
            raise RefusedFile(f"The sheet has more than {conf.IMPORT_MAX_COLUMNS} columns.")
        dataset.headers = list(header[:width])
        ignore_blanks = getattr(settings, "IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES", False)
        for read, row in enumerate(rows, start=1):
            if read > max_rows:
                raise too_many_rows(max_rows)
            values = row[:width]
            if not (ignore_blanks and all(value is None for value in values)):
                dataset.append(values)
        return dataset
    finally:
        book.close()
