"""An import file costs work in proportion to what is imported, not to what it claims to hold
(issue 20, part 4; fraud/import_files.py).

What was read is measured where the work happens, outside the code under test: the rows
openpyxl's sheet parser turned into cells (``WorkSheetParser.parse_row``), the bytes each
opened zip member gave (``zipfile.ZipExtFile.read``) and the rows the CSV reader produced.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import struct
import zipfile
from collections import defaultdict

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from import_export.formats import base_formats
from openpyxl.worksheet._reader import WorkSheetParser

from fraud import conf, import_files
from fraud.models import FraudAlert
from tests.assertions import assert_page_shows, unchanged
from tests.factories import CustomerFactory
from tests.fraud.workbooks import repeated_rows, xlsx_bytes

HEADERS = ["customer_id", "order_id", "alert_type", "alert_severity", "alert_description", "evidence"]
URL = "/admin/fraud/fraudalert/import/"
SHEET = "xl/worksheets/sheet1.xml"


class Reads:
    """What openpyxl and zipfile read during the block."""

    def __init__(self):
        self.rows = 0
        self.opened: list[str] = []
        self.bytes_per_open: list[tuple[str, int]] = []  # (member, bytes read) per opening


@pytest.fixture
def reads(monkeypatch) -> Reads:
    seen = Reads()
    parse_row, open_member, read = WorkSheetParser.parse_row, zipfile.ZipFile.open, zipfile.ZipExtFile.read

    def counted_parse_row(self, element):
        seen.rows += 1
        return parse_row(self, element)

    def counted_open(self, name, *args, **kwargs):
        member = open_member(self, name, *args, **kwargs)
        if isinstance(member, zipfile.ZipExtFile):
            seen.opened.append(member.name)
            member._opening = len(seen.bytes_per_open)
            seen.bytes_per_open.append((member.name, 0))
        return member

    def counted_read(self, n=-1):
        data = read(self, n)
        if hasattr(self, "_opening"):
            name, total = seen.bytes_per_open[self._opening]
            seen.bytes_per_open[self._opening] = (name, total + len(data))
        return data

    monkeypatch.setattr(WorkSheetParser, "parse_row", counted_parse_row)
    monkeypatch.setattr(zipfile.ZipFile, "open", counted_open)
    monkeypatch.setattr(zipfile.ZipExtFile, "read", counted_read)
    return seen


def _post(client, data: bytes, name: str = "alerts.xlsx", fmt: str = "1"):
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(URL, {"import_file": upload, "format": fmt, "resource": "0"})


def _alert_row(customer_id: int, i: int = 0) -> list:
    return [customer_id, "", "PAYMENT_FRAUD", "HIGH", f"alert {i}", json.dumps({"i": i})]


@pytest.fixture
def fraud_client(client, make_staff):
    from customer_ops.roles import Role

    client.force_login(make_staff(Role.FRAUD))
    return client


@pytest.mark.django_db
def test_a_workbook_of_many_small_rows_is_refused_having_read_at_most_the_cap_plus_one(
    fraud_client, reads, monkeypatch
):
    monkeypatch.setattr(conf, "IMPORT_MAX_ROWS", 50)
    c = CustomerFactory()
    data = xlsx_bytes([], raw_rows=repeated_rows(HEADERS, _alert_row(c.pk), 3_000))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_size = archive.getinfo(SHEET).file_size
    assert sheet_size > 500_000 and len(data) < 20_000  # small enough for every size check
    reads.rows, reads.bytes_per_open = 0, []

    with unchanged(FraudAlert):
        response = _post(fraud_client, data)
    assert_page_shows(response, present=["The file has more than 50 rows; at most 50 are imported at once"])
    # openpyxl turned the header and at most 51 rows into cells...
    assert 0 < reads.rows <= 1 + 50 + 1
    # ...and no pass over the sheet (the shape check, the read) unpacked more than a few
    # parser buffers of it: ~250 bytes a row, 16 KB a buffer.
    sheet_reads = [n for name, n in reads.bytes_per_open if name == SHEET]
    assert sheet_reads and max(sheet_reads) <= 64 * 1024 < sheet_size


@pytest.mark.django_db
def test_the_issue_s_workbook_is_refused_on_its_unpacked_size_before_any_part_is_read(fraud_client, reads):
    # 300,000 rows in about 250 KB (the issue's file held them in 105 KB): under the 5 MB
    # upload cap, some 60 MB of XML.
    c = CustomerFactory()
    data = xlsx_bytes([], raw_rows=repeated_rows(HEADERS, _alert_row(c.pk), 300_000))
    assert len(data) < conf.IMPORT_MAX_BYTES
    reads.opened.clear()

    with unchanged(FraudAlert):
        response = _post(fraud_client, data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    assert unpacked > 50 * 2**20
    assert_page_shows(
        response,
        present=[f"The workbook unpacks to {filesizeformat(unpacked)}; at most 25.0\xa0MB can be imported at once"],
    )
    assert reads.opened == [] and reads.rows == 0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        # A 3 MB sheet of identical rows, deflated about 250-fold, under the unpacked cap.
        (
            lambda: xlsx_bytes([], raw_rows=repeated_rows(HEADERS, _alert_row(1), 15_000)),
            "times bigger than it is stored",
        ),
        (
            lambda: xlsx_bytes([HEADERS], extra_members={f"xl/media/p{i}.bin": b"x" for i in range(200)}),
            "The workbook has 205 parts; an XLSX file has at most 100.",
        ),
        (lambda: b"customer_id,order_id\n1,2\n", "The file is not an XLSX workbook (not a zip archive)."),
    ],
    ids=["compression-ratio", "too-many-members", "not-a-zip"],
)
@pytest.mark.django_db
def test_a_suspicious_package_is_refused_from_its_directory_alone(fraud_client, reads, build, message):
    data = build()
    reads.opened.clear()
    with unchanged(FraudAlert):
        response = _post(fraud_client, data)
    assert_page_shows(response, present=[message])
    assert reads.opened == [] and reads.rows == 0


@pytest.mark.parametrize(
    ("raw_rows", "message"),
    [
        ([b"<row>" + b"<c><v>1</v></c>" * 10_000 + b"</row>"], "has too many cells"),
        ([b"<x/>" * 251_000], "has too many elements"),  # under 1 MB: no ratio check
        ([b"<x>" * 100 + b"</x>" * 100], "nests deeper than a spreadsheet does"),
    ],
    ids=["one-huge-row", "elements-outside-rows", "deep-nesting"],
)
def test_a_sheet_openpyxl_would_hold_whole_is_refused_before_openpyxl_reads_it(reads, raw_rows, message):
    data = xlsx_bytes([], raw_rows=raw_rows)
    with pytest.raises(import_files.RefusedFile, match=message):
        import_files.read_xlsx(data, max_rows=conf.IMPORT_MAX_ROWS)
    assert reads.rows == 0


def test_a_declared_dimension_of_the_whole_grid_pads_nothing(reads):
    data = xlsx_bytes([HEADERS, _alert_row(7, 1), _alert_row(7, 2)], dimension="A1:XFD1048576")
    dataset = import_files.read_xlsx(data, max_rows=10)
    assert dataset.headers == HEADERS and dataset.height == 2
    assert reads.rows == 3


def test_a_member_holding_more_than_its_declared_size_is_read_no_further(reads):
    # Python's zipfile stops unpacking a member at the size its directory entry declares: the
    # declared sizes the package check adds up bound what is read.
    data = bytearray(xlsx_bytes([], raw_rows=repeated_rows(HEADERS, _alert_row(1), 2_000)))
    declared = 1_000
    entry = data.index(b"PK\x01\x02")
    while True:  # the central directory entry of the sheet
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + name_length] == SHEET.encode():
            break
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, declared)
    with pytest.raises(import_files.RefusedFile, match="The workbook is damaged"):
        import_files.read_xlsx(bytes(data), max_rows=conf.IMPORT_MAX_ROWS)
    assert max(n for name, n in reads.bytes_per_open if name == SHEET) <= declared


def test_a_csv_is_refused_having_read_at_most_the_cap_plus_one_rows(monkeypatch):
    pulled = 0
    reader = csv.reader

    def counting_reader(*args, **kwargs):
        nonlocal pulled
        for row in reader(*args, **kwargs):
            pulled += 1
            yield row

    monkeypatch.setattr(csv, "reader", counting_reader)
    text = "\n".join([",".join(HEADERS)] + [f"7,,PAYMENT_FRAUD,HIGH,row {i},{{}}" for i in range(5_000)])
    with pytest.raises(import_files.TooManyRows, match="more than 50 rows"):
        import_files.read_csv(text, max_rows=50)
    assert pulled == 1 + 50 + 1


def test_a_regular_workbook_reads_as_django_import_export_reads_it():
    # Excel-like: written by openpyxl (a declared dimension, shared strings, styles), with a
    # date, a number, empty cells, a blank row, and a value in a column without a header.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append([7, None, "PAYMENT_FRAUD", "HIGH", "first", '{"a": 1}'])
    sheet.append([])
    sheet.append([8, 12, "DEVICE_MISMATCH", "LOW", dt.date(2026, 3, 1), 2.5])
    sheet["H2"] = "note past the headers"
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()

    ours = import_files.read_xlsx(data, max_rows=10)
    stock = base_formats.XLSX().create_dataset(data)
    assert ours.headers == HEADERS
    # The stock reader pads to the declared width (None headers, ignored by the resource).
    width = len(HEADERS)
    assert ours.dict == [dict(zip(HEADERS, row[:width], strict=True)) for row in stock]
    assert ours.height == stock.height == 3


def test_a_regular_csv_reads_as_django_import_export_reads_it():
    text = 'customer_id,order_id,alert_type\n7,,PAYMENT_FRAUD\n\n8,12\n9,1,"two\nlines"\n'
    ours = import_files.read_csv(text, max_rows=10)
    stock = base_formats.CSV().create_dataset(text)
    assert ours.headers == stock.headers and ours.dict == stock.dict and ours.height == 3


@pytest.mark.django_db
def test_a_workbook_with_bad_rows_still_reports_every_bad_row_and_writes_nothing(fraud_client):
    c = CustomerFactory()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(_alert_row(c.pk))
    sheet.append([c.pk, None, "NOPE", "HIGH", "bad type", "{}"])
    sheet.append([424242, None, "PAYMENT_FRAUD", "HIGH", "no customer", "{}"])
    out = io.BytesIO()
    book.save(out)
    with unchanged(FraudAlert):
        response = _post(fraud_client, out.getvalue())
    assert_page_shows(
        response, present=["Customer 424242 does not exist.", "NOPE"], absent=["process_import", "Confirm import"]
    )


@pytest.mark.django_db
def test_a_clean_workbook_is_offered_for_confirmation(fraud_client):
    c = CustomerFactory()
    data = xlsx_bytes([HEADERS, _alert_row(c.pk, 1), _alert_row(c.pk, 2)])
    response = _post(fraud_client, data)
    assert_page_shows(response, present=["process_import"])
    counts = defaultdict(int)
    for row in response.context["result"].rows:
        counts[row.import_type] += 1
    assert counts == {"new": 2}
