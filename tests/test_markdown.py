"""Markdown read as the text a reader sees: wrapped lines joined, markup gone, lists, tables and
code kept line by line, a lead-in kept with what it introduces. Made-up files."""

from index.load import load
from index.markdown import markdown_text
from index.sentences import split_sentences

README = """---
title: Kiln
date: 2024-03-05
---
# Kiln [![build](https://ci.example/badge.svg)](https://ci.example)

Kiln bakes **pottery glazes** in batches and logs each firing to
a [serial console](https://example.org/console) at 9600 baud.

## Building

The controller needs these tools:

* `make` and a C compiler
* the [avr-gcc][gcc] toolchain

[gcc]: https://example.org/gcc

To build it, run:

```sh
make firmware --release
flash --port `/dev/ttyUSB0`
```

| Setting | Meaning | Default |
|---------|---------|---------|
| `heat`  | top temperature in °C | 1200 |

<!-- a note for editors -->
1. Load the shelf.
2. Close the lid.
"""


def test_markdown_is_read_as_the_text_a_reader_sees():
    text, title = markdown_text(README)
    assert title == "Kiln"
    assert "title:" not in text and "badge" not in text and "https://" not in text and "**" not in text
    # a paragraph's wrapped lines are one sentence; a link keeps its words
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert ("Kiln bakes pottery glazes in batches and logs each firing to a serial console at 9600 "
            "baud.") in sentences
    # a lead-in stays on the line before its list (no blank line), items are "- " lines
    assert "The controller needs these tools:\n- `make` and a C compiler\n- the avr-gcc toolchain" in text
    # code lines are inline code, one per line, right after what introduces them
    assert "To build it, run:\n`make firmware --release`\n`` flash --port `/dev/ttyUSB0` ``" in text
    # a table row names its columns; an ordered list keeps its numbers; comments go
    assert "Setting: `heat`; Meaning: top temperature in °C; Default: 1200" in text
    assert "1. Load the shelf.\n2. Close the lid." in text and "editors" not in text


def test_a_markdown_file_is_loaded_as_plain_text_with_its_front_matter_date(tmp_path):
    path = tmp_path / "kiln.md"
    path.write_text(README, encoding="utf-8")
    doc = load(path)
    assert doc.title == "Kiln" and doc.date == "2024-03-05"
    assert doc.text.startswith("Kiln\n\nKiln bakes pottery glazes in batches")


RST = """:mod:`kiln` Controller Guide
=============================

Overview
--------

The controller has two parts, described in :rfc:`9999` and in the
:class:`~kiln.Schedule` class, which reads ``firing.toml`` from the
card slot on its front panel before the first burner is lit and then
checks the **thermocouple** every few seconds while the kiln is hot::

    kiln run --schedule firing.toml

.. note:: A cold kiln cannot be started from the card.

.. a comment for editors

Schedule
    Reads a `firing card <https://example.org/cards>`_ and sets the heat (see `Cards`_).

The `Schedule` object `__getitem__` method reads a step.

The kiln has three parts:

    Chamber
        Holds the pots
        while they fire.

    Burner
        Heats the chamber.

Each part has a serial number.
"""


def test_restructured_text_is_read_as_the_text_a_reader_sees(tmp_path):
    path = tmp_path / "guide.rst"
    path.write_text(RST, encoding="utf-8")
    doc = load(path)
    assert doc.title == "kiln Controller Guide"
    assert "===" not in doc.text and "---" not in doc.text and "editors" not in doc.text
    assert ("The controller has two parts, described in RFC 9999 and in the `kiln.Schedule` class, "
            "which reads `firing.toml` from the card slot") in doc.text          # wrapped lines joined
    assert "while the kiln is hot:\n`kiln run --schedule firing.toml`" in doc.text and "**" not in doc.text
    assert "Note: A cold kiln cannot be started from the card." in doc.text
    assert "Reads a firing card and sets the heat (see Cards)." in doc.text and "https://" not in doc.text
    assert "The `Schedule` object `__getitem__` method" in doc.text
    # a definition list: an item per term, right under its lead-in
    assert ("The kiln has three parts:\n- Chamber: Holds the pots while they fire.\n"
            "- Burner: Heats the chamber.\n\nEach part") in doc.text
