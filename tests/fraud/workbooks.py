"""Hand-built XLSX files for the import tests and ``bench/import_bomb.py``: the smallest
package openpyxl opens (content types, workbook, one sheet), its sheet XML written row by
row straight into the deflated member, so a file of a million rows costs the test a few
hundred KB and no memory."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

CONTENT_TYPES = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml"
 ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
ROOT_RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
 Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="alerts" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
WORKBOOK_RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
 Target="worksheets/sheet1.xml"/>
</Relationships>"""
SHEET_HEAD = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"""


def _cell(ref: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def sheet_rows(rows: Iterable[list]) -> Iterable[bytes]:
    """``<row>`` elements numbered from 1, one per item of ``rows``."""
    for number, values in enumerate(rows, start=1):
        cells = "".join(_cell(f"{get_column_letter(col)}{number}", v) for col, v in enumerate(values, start=1))
        yield f'<row r="{number}">{cells}</row>'.encode()


def xlsx_bytes(
    rows: Iterable[list],
    *,
    dimension: str | None = None,
    raw_rows: Iterable[bytes] | None = None,
    extra_members: dict[str, bytes] | None = None,
) -> bytes:
    """An XLSX whose one sheet holds ``rows`` (the first is the header), or the ready-made
    ``raw_rows`` XML; ``dimension`` is the sheet's declared ``<dimension ref=...>``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD)
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            for row in raw_rows if raw_rows is not None else sheet_rows(rows):
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
        for name, data in (extra_members or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def repeated_rows(header: list, row: list, count: int) -> Iterable[bytes]:
    """``header``, then ``count`` copies of ``row`` written without row and cell references
    (Excel's own files may omit them): identical bytes, so the sheet deflates about
    a thousandfold, the shape of the "small file, millions of rows" workbook."""
    yield from sheet_rows([header])
    cells = "".join(_cell("", value).replace(' r=""', "") or "<c/>" for value in row)
    chunk = f"<row>{cells}</row>".encode() * 1000
    for _ in range(count // 1000):
        yield chunk
    yield f"<row>{cells}</row>".encode() * (count % 1000)
