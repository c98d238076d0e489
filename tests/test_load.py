"""Loading files: formats, titles, dates, and unusable files reported by name."""

import pytest

from index.load import find_date, load
from rag.errors import BadDocument

ARTICLE = ("Ankara, December 14 - The ministry said the talks went well. Officials will meet again "
           "next month to discuss the sale of 40 jets.")


def test_txt_gets_stem_id_first_sentence_title_and_dateline_date(tmp_path):
    path = tmp_path / "123_abc.txt"
    path.write_text(ARTICLE)
    doc = load(path)
    assert doc.doc_id == "123_abc"
    assert doc.title == "The ministry said the talks went well."
    assert doc.date == "--12-14"
    assert doc.source == str(path.resolve())


def test_markdown_heading_is_the_title(tmp_path):
    path = tmp_path / "m.md"
    path.write_text("# Talks resume in Ankara\n\n" + ARTICLE)
    assert load(path).title == "Talks resume in Ankara"


def test_html_text_is_extracted_without_scripts_or_navigation(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>Site</title><script>alert('x')</script></head><body>"
                    "<nav>Home | World</nav><h1>Jets deal stalls</h1><p>" + ARTICLE + "</p>"
                    "<footer>Copyright</footer></body></html>")
    doc = load(path)
    assert doc.title == "Jets deal stalls"
    assert "sale of 40 jets" in doc.text
    assert "alert" not in doc.text and "Home | World" not in doc.text and "Copyright" not in doc.text


def test_pdf_text_is_extracted(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "report.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.drawString(72, 720, "The ministry said the talks went well on Monday.")
    pdf.drawString(72, 700, "Officials will meet again next month to discuss the jets.")
    pdf.save()
    doc = load(path)
    assert "talks went well" in doc.text and "discuss the jets" in doc.text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_unicode_with_a_byte_order_mark_is_read(tmp_path, encoding):
    path = tmp_path / "bom.txt"
    path.write_bytes(("\ufeff" if encoding == "utf-16-be" else "").encode(encoding) + ARTICLE.encode(encoding))
    assert load(path).text == ARTICLE


@pytest.mark.parametrize("name,content,reason", [
    ("binary.txt", b"\x00\x01\x02\x03" * 100, "binary"),
    ("latin1.txt", "caf\xe9 cr\xe8me br\xfbl\xe9e ".encode("latin-1") * 20, "UTF-8"),
    ("empty.txt", b"", "no readable text"),
    ("spaces.md", b"   \n\n  ", "no readable text"),
    ("notes.docx", b"PK\x03\x04", "unsupported format"),
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
])
def test_unusable_file_raises_bad_document_naming_the_file(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadDocument) as err:
        load(path)
    assert name in str(err.value) and reason in str(err.value)
    assert "\n" not in str(err.value)


def test_dates_are_found_in_several_forms():
    assert find_date("Paris, March 3, 2025 - Talks") == "2025-03-03"
    assert find_date("Published on 2024-11-05 by staff") == "2024-11-05"
    assert find_date("Posted January 9, 2025. The talks") == "2025-01-09"
    assert find_date("No date here at all.") == ""


def test_a_pdf_paragraph_wrapped_at_the_page_width_reads_as_one_paragraph(tmp_path):
    from reportlab.pdfgen import canvas

    # each line is cut where the page ends, several of them before a capitalised word
    lines = ["The harbour board of Port Amber met the fishing union on Friday to",
             "discuss the new quay that was described last year by the Harbour",
             "Authority: it would double the berths for the trawlers and would cut",
             "the waiting time at the fuel dock, which the crews of the northern",
             "Fleet have complained about for years. The union asked the board of",
             "Port Amber to publish the plans before the vote in the spring, and the",
             "Board agreed to do so once the engineers of the Harbour Authority had",
             "Finished their survey of the silt in the outer channel of the harbour.",
             "The next meeting is in June."]
    path = tmp_path / "minutes.pdf"
    pdf = canvas.Canvas(str(path))
    for i, line in enumerate(lines):
        pdf.drawString(72, 720 - 16 * i, line)
    pdf.save()
    text = load(path).text
    assert "described last year by the Harbour Authority: it would double" in text
    assert "the crews of the northern Fleet have complained" in text
    assert "\n" not in text
