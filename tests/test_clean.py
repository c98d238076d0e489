"""Each cleaning rule, on the bundled corpus's real noise and on small made-up text."""

from pathlib import Path

import pytest

from index.clean import (clean, drop_boilerplate_lines, drop_glued_foreign_fragments, fix_encoding,
                         fix_spacing, join_broken_lines)
from index.terms import words

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def raw(stem_prefix: str) -> str:
    return next(CORPUS.glob(f"{stem_prefix}_*.txt")).read_text(encoding="utf-8")


def test_read_also_line_is_removed_and_the_story_around_it_kept():
    text = clean(raw("004"))
    assert "Read Also" not in text and "Pope Leo" not in text
    assert "The US also imposed sanctions under federal law." in text
    assert "Turkey has long rejected that position" in text


def test_discover_more_and_subscribe_footer_is_removed():
    text = clean(raw("002"))
    assert "Discover more from" not in text and "Subscribe to get" not in text
    assert text.endswith("continues to unfold.")


def test_misencoded_name_fragment_is_dropped_but_the_sentence_stays():
    text = clean(raw("003"))
    assert "バーク" not in text
    assert "said U.S. Ambassador to Turkey Tom in a recent statement." in text


def test_mojibake_is_repaired():
    assert fix_encoding("Turkeyâ€™s S-400 caf\u00c3\u00a9") == "Turkey’s S-400 café"


def test_sentence_broken_after_abbreviation_is_joined():
    text = clean(raw("003"))
    assert "said U.S.\nAmbassador" not in text
    assert "said U.S. Ambassador to Turkey" in text


def test_line_broken_mid_sentence_is_joined_but_headings_and_bullets_are_not():
    text = join_broken_lines("The minister said that\nthe talks would resume.\nHeading Here\n- a bullet\n- another")
    assert text == "The minister said that the talks would resume.\nHeading Here\n- a bullet\n- another"


def test_space_before_full_stop_is_removed():
    text = clean(raw("000"))
    assert " ." not in text and " ," not in text
    assert "strategic defense procurement." in text
    assert fix_spacing("It ended .  Then , more ?") == "It ended. Then, more?"


def test_decimal_numbers_and_ellipses_are_not_mangled():
    assert fix_spacing("It cost 1.5 billion . Later") == "It cost 1.5 billion. Later"


def test_boilerplate_rule_keeps_long_lines_that_merely_start_similarly():
    long_line = "Subscribe to " + "the theory that content matters " * 10
    assert drop_boilerplate_lines(long_line) == long_line


def test_foreign_script_is_kept_in_a_non_latin_article():
    japanese = "東京は日本の首都です。Tokyoバーク"
    assert drop_glued_foreign_fragments(japanese) == japanese


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.stem)
def test_cleaning_deletes_no_real_words(path):
    """Every word of the article survives, except those on boilerplate lines (and the glued
    fragments of another script, which cleaning drops on purpose)."""
    def latin(text):
        return [w for w in words(text) if w.isascii()]

    original = path.read_text(encoding="utf-8")
    kept_lines = drop_boilerplate_lines(original)
    assert latin(clean(original)) == latin(kept_lines)
    assert len(latin(kept_lines)) > 0.9 * len(latin(original))


def test_accents_are_folded_so_a_name_typed_without_them_still_matches():
    from index.terms import terms

    assert words("Müller and Ağaoğlu met in Łódź.") == ["muller", "and", "agaoglu", "met", "in", "lodz"]
    assert terms("President Erdoğan") == terms("President Erdogan")
    assert words("Встреча в Москве") == ["встреча", "в", "москве"]   # other scripts stay words
    assert words("Tomバーク said") == ["tom", "バーク", "said"]        # ... and apart from Latin


def test_an_identifier_with_underscores_is_a_term_of_its_own_besides_its_parts():
    from index.terms import terms

    assert words("Set KILN_MAX_HEAT first.") == ["set", "kiln", "max", "heat", "first", "kiln_max_heat"]
    # a question naming the identifier shares a term only with text that names it
    asked = set(terms("What does KILN_MAX_HEAT do?"))
    assert asked <= set(terms("`KILN_MAX_HEAT`, if set, caps the heat of the kiln."))
    assert not asked <= set(terms("The kiln's max heat is set in the menu."))
    assert words("a _private __init__ x_") == ["a", "private", "init", "x"]


def test_remembered_words_are_handed_out_as_copies():
    from index.terms import terms

    first = words("The kiln fires twice.")
    first.append("changed")
    said = terms("The kiln fires twice.")
    said.clear()
    assert words("The kiln fires twice.") == ["the", "kiln", "fires", "twice"]
    assert terms("The kiln fires twice.") == ["kiln", "fire", "twice"]


def test_hard_wrapped_paragraphs_are_joined_whatever_the_next_line_starts_with():
    from index.clean import clean

    wrapped = ("Kiln Manual\n===========\n\n"
               "The kiln divides a firing into the two stages described by the\n"
               "Potters Guild: the bisque firing and the glaze firing. Each stage has\n"
               "its own schedule, which the controller reads from the card in the\n"
               "slot on its front panel before the first burner is lit.\n\n"
               "Parts\n"
               "- a serial cable for the controller and its logging console port\n"
               "- a sixteen amp fuse for the heating elements and the kiln fan\n"
               "Glazes are mixed by hand in the studio, and the kiln fires them at\n"
               "night when the power is cheap and the studio is empty of people.\n")
    text = clean(wrapped)
    assert ("The kiln divides a firing into the two stages described by the Potters Guild: the "
            "bisque firing and the glaze firing.") in text
    assert "\nKiln Manual\n" in "\n" + text and "\nParts\n- a serial cable" in text   # headings, items
    assert "- a serial cable for the controller and its logging console port\n- a sixteen" in text
    # a paragraph per line (news as published) is left as it is
    news = "\n".join(["Talks resume", ""] + [f"Paragraph {i} says the talks went well and will go on "
                                             f"for weeks, officials in the capital said on day {i}."
                                             for i in range(12)])
    assert clean(news) == news
