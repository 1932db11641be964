"""The Chinese catalogue: complete, and every translation keeps its placeholders.

A translation that drops or renames a %(name)s placeholder turns a message
into a KeyError at run time, so babel's own format checker runs over it here.
"""

from pathlib import Path

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
        compiled = {plain(m.id): plain(m.string) for m in read_mo(handle) if m.id}
    source = {plain(m.id): plain(m.string) for m in load() if m.id and m.string and not m.fuzzy}
    assert compiled == source
