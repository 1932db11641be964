"""The Chinese catalogue: complete, and every translation keeps its placeholders.

A translation that drops or renames a %(name)s placeholder turns a message
into a KeyError at run time, so babel's own format checker runs over it here.
"""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).resolve().parent.parent / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"


def load():
    with CATALOGUE.open("rb") as handle:
        return read_po(handle)


def test_every_translation_keeps_its_placeholders():
    problems = [(message.id, [str(e) for e in errors]) for message, errors in load().check()]
    assert problems == []


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue = load()
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


def test_the_compiled_catalogue_matches_the_source():
    from babel.messages.mofile import read_mo

    def plain(value):  # plural messages: read_mo gives lists, read_po tuples
        return tuple(value) if isinstance(value, list | tuple) else value

    with CATALOGUE.with_suffix(".mo").open("rb") as handle:
        compiled = {(m.context, plain(m.id)): plain(m.string) for m in read_mo(handle) if m.id}
    source = {(m.context, plain(m.id)): plain(m.string) for m in load() if m.id and m.string and not m.fuzzy}
    assert compiled == source


# --- the glossary and Chinese punctuation ---------------------------------------------------
#
# The glossary (../shared/GLOSSARY.md, beside the repository) is the word list hotline staff use.
# Its table pairs English terms with Chinese ones: "a / b" against "甲 / 乙" pairs them in order,
# a Chinese cell with more choices than English terms lists alternatives, and "x (note)" after an
# English term names its meaning: a catalogue entry with a message context is held to the
# glossary meaning whose note contains that context ("Report" in context "ticket type" is 举报,
# in context "statistics" 报表). A term with two meanings must not appear without a context.

GLOSSARY = Path(__file__).resolve().parents[1] / ".." / "shared" / "GLOSSARY.md"
CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"


def _split_note(text):
    """'report (ticket type)' -> ('report', 'ticket type'); a note may itself hold '/'."""
    text = text.strip()
    if text.endswith(")") and "(" in text:
        head = text[: text.index("(")]
        return head.strip(), text[text.index("(") + 1 : -1].strip()
    return text, ""


def _terms(english):
    """The cell's terms with their notes; a trailing note belongs to every term of the cell
    ("from / to (dates)"), a note inside to its own term ("report (ticket type) / suggestion")."""
    english = english.replace("*", "").strip()
    shared = ""
    if english.endswith(")"):
        depth = 0
        for index in range(len(english) - 1, -1, -1):  # the trailing note's own "("
            depth += {")": 1, "(": -1}.get(english[index], 0)
            if depth == 0:
                break
        english, shared = english[:index].strip(), english[index + 1 : -1].strip()
    parts = english.split(" / ") if " / " in english else english.split(", ")
    terms = []
    for part in parts:
        term, note = _split_note(part)
        terms.append((term.lower(), note or shared))
    return terms


def _chinese(cell):
    """'来电人 (诉求人)' -> ['来电人', '诉求人']; bold marks and spaces out."""
    cell = cell.replace("*", "").strip()
    main, note = _split_note(cell)
    return [w for w in (main, note) if w]


def glossary():
    """[(english term, note, [Chinese choices])] from the glossary's table."""
    entries = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2 or cells[0] in ("English", "") or set(cells[0]) <= set("-"):
            continue
        terms = _terms(cells[0])
        chinese = cells[1].split(" / ")
        if len(chinese) == len(terms):
            pairs = [(term, note, _chinese(zh)) for (term, note), zh in zip(terms, chinese, strict=True)]
        else:  # one meaning, several Chinese words
            choices = [w for zh in chinese for w in _chinese(zh)]
            pairs = [(term, note, choices) for term, note in terms]
        entries.extend(pairs)
    return entries


def _forms(term):
    """A message names a term as it is, in the plural, or as a past participle ("Closed")."""
    return {term, term + "s", term + "d", term + "ed"}


def _meanings_of(message_id, entries):
    key = message_id.strip().rstrip(":").lower()
    return [entry for entry in entries if key in _forms(entry[0])]


def test_the_glossary_is_parsed_as_written():
    if not GLOSSARY.exists():
        pytest.skip(f"no glossary at {GLOSSARY}: it lives in ../shared beside the repository (CI has it)")
    entries = glossary()
    assert ("report", "ticket type", ["举报"]) in entries
    assert ("report", "statistics, export, dashboard", ["报表", "统计报表"]) in entries
    assert ("to", "dates", ["结束日期"]) in entries
    assert ("to", "a text message's sender / recipient", ["接收号码"]) in entries
    assert ("caller", "", ["来电人", "诉求人"]) in entries
    assert ("close", "", ["归档"]) in entries


def test_glossary_terms_have_the_glossary_chinese():
    if not GLOSSARY.exists():
        pytest.skip(f"no glossary at {GLOSSARY}: it lives in ../shared beside the repository (CI has it)")
    entries = glossary()
    problems = []
    for message in load():
        if not message.id or not isinstance(message.id, str) or not message.string:
            continue
        meanings = _meanings_of(message.id, entries)
        if not meanings:
            continue
        context = (message.context or "").lower()
        if context:
            meanings = [m for m in meanings if context in m[1].lower()]
        elif len({m[1] for m in meanings}) > 1:
            problems.append((message.id, None, message.string, "two meanings: give it a message context"))
            continue
        for _term, _note, choices in meanings:
            if not any(choice in message.string for choice in choices):
                problems.append((message.id, message.context, message.string, " / ".join(choices)))
    assert problems == [], "\n".join(map(str, problems))


# ASCII punctuation touching a Chinese character: "办结;" or "(保密)" or "：" written as ":".
# Placeholders (%(name)s), URLs and code keep theirs, and are not next to Chinese anyway.
_ASCII_BESIDE_CJK = re.compile(rf"(?<={CJK})\s*[,;:?!()]|[,;:?!()]\s*(?={CJK})")


def _chinese_strings(message):
    strings = message.string if isinstance(message.string, list | tuple) else (message.string,)
    return [s for s in strings if s]


def test_chinese_messages_use_chinese_punctuation():
    problems = []
    for message in load():
        if not message.id:
            continue
        for text in _chinese_strings(message):
            bare = re.sub(r"%\([a-z_]+\)[sd]|%[sd]|https?://\S+|`[^`]*`", "x", text)
            if _ASCII_BESIDE_CJK.search(bare) or re.search(rf"{CJK}\.(\s|$)", bare):
                problems.append(text)
    assert problems == []


def test_a_percentage_has_no_space_before_its_sign():
    """98.5%, as the glossary writes it; "1 %" reads as a stray sign in Chinese."""
    problems = [t for m in load() if m.id for t in _chinese_strings(m) if re.search(r"\d\s+%(?!\()", t)]
    assert problems == []
