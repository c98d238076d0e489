"""Publication dates: stated by the text, declared by the file (HTML, front matter, PDF, name),
a year added only where the file gives one that agrees, and never guessed."""

import os
import time

import pytest

from index.dates import find_date
from index.load import load

BODY = ("The harbour board voted to reopen the north pier after repairs. Ferries will return "
        "to the old timetable within weeks, the board said.")


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text,date", [
    ("\nLisbon, June 3 - " + BODY, "--06-03"),
    ("\n \n\tLisbon, June 3, 2023 - " + BODY, "2023-06-03"),
])
def test_a_leading_blank_line_does_not_hide_a_dateline(text, date):
    assert find_date(text) == date


@pytest.mark.parametrize("text,date", [
    ("LISBON, Dec. 4 (Harbour Wire) - " + BODY, "--12-04"),
    ("Pier reopens after repairs\nLisbon, June 3 - " + BODY, "--06-03"),
    ("Date: March 5, 2024\n\n" + BODY, "2024-03-05"),
    ("Published: 2024-03-05\n" + BODY, "2024-03-05"),
    ("Posted: 5 March 2024\n" + BODY, "2024-03-05"),
    ("Date: March 5\n" + BODY, "--03-05"),
])
def test_datelines_and_leading_date_lines_are_read(text, date):
    assert find_date(text) == date


@pytest.mark.parametrize("text", [
    "Lisbon, February 30 - " + BODY,
    "Date: 2023-02-29\n" + BODY,
    "Published: 2024-13-01\n" + BODY,
])
def test_a_date_the_calendar_does_not_have_is_ignored(text):
    assert find_date(text) == ""


def test_february_29_without_a_year_is_kept():
    assert find_date("Lisbon, February 29 - " + BODY) == "--02-29"


@pytest.mark.parametrize("head", [
    '<meta property="article:published_time" content="2024-03-05T10:00:00Z">',
    '<meta name="date" content="2024-03-05">',
    '<meta itemprop="datePublished" content="2024-03-05">',
    '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-03-05"}</script>',
])
def test_html_page_date_comes_from_its_meta_tags(tmp_path, head):
    path = _write(tmp_path, "page.html", f"<html><head>{head}</head><body><h1>Pier reopens</h1>"
                                         f"<p>{BODY}</p></body></html>")
    assert load(path).date == "2024-03-05"


def test_html_time_in_a_header_that_cleaning_drops_still_dates_the_page(tmp_path):
    path = _write(tmp_path, "page.html", '<html><body><header><time datetime="2024-03-05T08:00">'
                                         f"5 March</time></header><p>{BODY}</p></body></html>")
    doc = load(path)
    assert doc.date == "2024-03-05" and "5 March" not in doc.text


def test_html_publication_meta_wins_over_a_later_time_element(tmp_path):
    path = _write(tmp_path, "page.html", '<html><head><meta name="date" content="2024-03-05">'
                                         f'</head><body><p>{BODY}</p><p>Comment posted '
                                         '<time datetime="2024-04-09">later</time>.</p></body></html>')
    assert load(path).date == "2024-03-05"


@pytest.mark.parametrize("front", ["date: 2024-03-05", "date: 'March 5, 2024'",
                                   "published: 2024-03-05T09:30:00+01:00"])
def test_markdown_front_matter_gives_the_date(tmp_path, front):
    path = _write(tmp_path, "note.md", f"---\ntitle: Pier\n{front}\ntags: port\n---\n\n"
                                       f"# Pier reopens\n\n{BODY}")
    assert load(path).date == "2024-03-05"


@pytest.mark.parametrize("name,date", [
    ("2024-03-05-pier-reopens.txt", "2024-03-05"),
    ("20240305_pier.md", "2024-03-05"),
    ("pier_2024-03-05.txt", "2024-03-05"),
    ("a9f20240305bc.txt", ""),            # digits inside a hash are not a date
    ("2024-02-30-pier.txt", ""),          # not in the calendar
])
def test_an_iso_date_in_the_file_name_dates_the_file(tmp_path, name, date):
    assert load(_write(tmp_path, name, BODY)).date == date


@pytest.mark.parametrize("dateline,date", [
    ("Lisbon, March 5 - ", "2024-03-05"),   # month and day agree: the name's year is used
    ("Lisbon, March 6 - ", "--03-06"),      # they disagree: no year is taken
])
def test_a_dateline_without_year_takes_the_year_only_from_an_agreeing_file_date(tmp_path, dateline, date):
    assert load(_write(tmp_path, "2024-03-05-pier.txt", dateline + BODY)).date == date


def test_a_full_dateline_wins_over_the_file_name(tmp_path):
    assert load(_write(tmp_path, "2024-03-05-pier.txt", "Lisbon, June 3, 2023 - " + BODY)).date == "2023-06-03"


def test_no_year_is_taken_from_the_modification_time_or_the_body(tmp_path):
    path = _write(tmp_path, "pier.txt", "Lisbon, March 5 - " + BODY + " The pier was built in 1998 "
                                        "and last repaired in 2019.")
    stamp = time.mktime((2024, 3, 5, 12, 0, 0, 0, 0, -1))
    os.utime(path, (stamp, stamp))
    assert load(path).date == "--03-05"


def _pdf(tmp_path, lines, metadata):
    from pypdf import PdfWriter
    from reportlab.pdfgen import canvas

    path = tmp_path / "report.pdf"
    pdf = canvas.Canvas(str(path))
    for i, line in enumerate(lines):
        pdf.drawString(72, 720 - 20 * i, line)
    pdf.save()
    writer = PdfWriter(clone_from=str(path))
    writer.add_metadata(metadata)
    with open(path, "wb") as f:
        writer.write(f)
    return path


LINES = ["The harbour board voted to reopen the north pier after repairs.",
         "Ferries will return to the old timetable within weeks."]


def test_pdf_creation_date_dates_a_pdf_whose_text_states_none(tmp_path):
    path = _pdf(tmp_path, LINES, {"/CreationDate": "D:20240305101500+01'00'",
                                  "/ModDate": "D:20240409090000Z"})
    assert load(path).date == "2024-03-05"


def test_pdf_modification_date_is_used_when_the_creation_date_is_unreadable(tmp_path):
    path = _pdf(tmp_path, LINES, {"/CreationDate": "yesterday", "/ModDate": "D:20240409090000Z"})
    assert load(path).date == "2024-04-09"


@pytest.mark.parametrize("first,date", [
    ("Lisbon, June 3, 2023 - The board met.", "2023-06-03"),   # the text's own date wins
    ("Lisbon, March 5 - The board met.", "2024-03-05"),        # agreeing metadata adds the year
    ("Lisbon, March 4 - The board met.", "--03-04"),
])
def test_pdf_text_date_is_preferred_to_its_creation_date(tmp_path, first, date):
    path = _pdf(tmp_path, [first, *LINES], {"/CreationDate": "D:20240305101500Z",
                                            "/ModDate": "D:20240305101500Z"})
    assert load(path).date == date
