"""German text folding, synonyms and one-typo candidates for the directory search. Sans I/O."""

from __future__ import annotations

import re
import unicodedata

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Groups of words that mean the same to a patient looking for a practice (already folded).
# Indexed with every provider whose specialty contains one of them, so a query needs no expansion.
SYNONYM_GROUPS: tuple[frozenset[str], ...] = tuple(
    frozenset(group)
    for group in (
        {
            "hausarzt",
            "hausaerztin",
            "allgemeinmedizin",
            "allgemeinmediziner",
            "allgemeinmedizinerin",
        },
        {
            "frauenarzt",
            "frauenaerztin",
            "gynaekologie",
            "gynaekologe",
            "gynaekologin",
            "frauenheilkunde",
            "geburtshilfe",
        },
        {"zahnarzt", "zahnaerztin", "zahnmedizin", "zahnheilkunde", "kieferorthopaedie"},
        {"kinderarzt", "kinderaerztin", "kinderheilkunde", "jugendmedizin", "paediatrie"},
        {"psychotherapeut", "psychotherapeutin", "psychotherapie", "psychologe", "psychologin"},
        {"augenarzt", "augenaerztin", "augenheilkunde", "ophthalmologie"},
        {
            "hautarzt",
            "hautaerztin",
            "dermatologie",
            "dermatologe",
            "dermatologin",
            "geschlechtskrankheiten",
        },
        {"kardiologe", "kardiologin", "kardiologie", "herzarzt"},
        {"hno", "hals", "nasen", "ohrenheilkunde", "ohrenarzt"},
        {"orthopaede", "orthopaedin", "orthopaedie", "unfallchirurgie"},
        {"urologe", "urologin", "urologie"},
        {"neurologe", "neurologin", "neurologie", "nervenarzt"},
        {"internist", "internistin", "innere", "inneremedizin"},
        {"psychiater", "psychiaterin", "psychiatrie"},
        {"lungenarzt", "lungenaerztin", "pneumologe", "pneumologin", "pneumologie"},
        {"radiologe", "radiologin", "radiologie"},
        {"chirurg", "chirurgin", "chirurgie"},
        {"onkologe", "onkologin", "onkologie"},
        {"diabetologe", "diabetologin", "diabetologie"},
        {"rheumatologe", "rheumatologin", "rheumatologie"},
        {"gastroenterologe", "gastroenterologin", "gastroenterologie", "magenarzt"},
        {"nephrologe", "nephrologin", "nephrologie", "nierenarzt"},
        {"anaesthesist", "anaesthesistin", "anaesthesiologie"},
    )
)
_SYNONYMS: dict[str, frozenset[str]] = {word: group for group in SYNONYM_GROUPS for word in group}
assert len(_SYNONYMS) == sum(map(len, SYNONYM_GROUPS)), "a word in two synonym groups"
# Changes with what the index holds for a record (synonyms, folding): the importer mixes it into
# each entry's content hash, so the next import re-indexes every entry after such a change.
INDEX_VERSION = "2:" + ";".join(sorted(",".join(sorted(group)) for group in SYNONYM_GROUPS))
TYPO_MIN_LENGTH = 5
VOCABULARY_MIN_LENGTH = TYPO_MIN_LENGTH - 1  # the vocabulary holds terms of 4+ letters


def fold(text: str) -> str:
    """Lower case, ä→ae ö→oe ü→ue ß→ss, other accents dropped, punctuation to spaces."""
    lowered = text.lower().translate(_GERMAN)
    stripped = "".join(
        char for char in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(char)
    )
    return _NON_WORD.sub(" ", stripped).strip()


def words(text: str) -> list[str]:
    return fold(text).split()


def with_synonyms(specialty_words: list[str]) -> list[str]:
    """The words plus every synonym of each, for indexing a specialty."""
    seen = dict.fromkeys(specialty_words)
    for word in specialty_words:
        for synonym in sorted(_SYNONYMS.get(word, ())):
            seen.setdefault(synonym)
    return list(seen)


def deletes(word: str) -> set[str]:
    """The word with one letter removed, every way (SymSpell's delete neighbourhood)."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance ≤ 1 (one insertion, deletion, substitution or swap)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
