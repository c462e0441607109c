"""The themes of customers' comments: the words many comments of one language share, and whether
they come from happy or unhappy customers ("what do German customers praise this month?").

The language work is done by libraries, each where it is strongest: jieba segments Chinese and
Sudachi (its small dictionary) segments Japanese, both tagging parts of speech so that only
content words (nouns, adjectives, verbs) count; the languages written with spaces are split on
Unicode word boundaries (the token pattern scikit-learn's vectorizers and Lucene's standard
tokenizer use for them) and reduced to their Snowball stems, so "Verpackung" and "Verpackungen"
are one theme; every language's stopwords come from stopwords-iso. The choice and its install
weight are in the README ("Comment themes").

A theme counts comments, not occurrences: one customer repeating a word five times is one voice.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import snowballstemmer
import stopwordsiso

STEMMERS = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "nl": "dutch"}
LANGUAGES = (*STEMMERS, "ja", "zh")
WORD = re.compile(r"(?u)\b\w\w+\b")
# Parts of speech that carry a theme. Sudachi: noun, adjective, adjectival noun, verb; jieba
# (ICTCLAS tags): nouns (n, nr, ns, nz, vn), adjectives (a, ad, an) and verbs (v).
JA_CONTENT = ("名詞", "形容詞", "形状詞", "動詞")
JA_NOT_CONTENT = ("数詞", "非自立可能")
ZH_CONTENT = ("n", "a", "v")
MAX_COMMENT_CHARS = 2000  # longer comments are cut: a theme is in the first paragraphs anyway


@dataclass(frozen=True)
class Comment:
    locale: str | None
    text: str
    sentiment: int = 0  # +1 a happy customer (4-5 stars / promoter), -1 an unhappy one, 0 neither


@dataclass(frozen=True)
class Theme:
    term: str  # the form customers wrote most often
    comments: int  # comments that mention it
    share: float  # of the language's comments
    praise: int  # of those, from happy customers
    complaints: int  # of those, from unhappy customers


def language_of(locale: str | None) -> str | None:
    """``de-DE`` -> ``de``, ``zh_CN`` -> ``zh``; None for a language the themes do not read."""
    lang = (locale or "").replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else None


def extract_themes(comments: Iterable[Comment], *, top: int = 5, min_comments: int = 2) -> dict[str, list[Theme]]:
    """The ``top`` themes per language, by the number of comments that mention them (at least
    ``min_comments``), most frequent first; ties by term so that a report reads the same twice."""
    per_language: dict[str, list[Comment]] = defaultdict(list)
    for comment in comments:
        lang = language_of(comment.locale)
        if lang and comment.text and comment.text.strip():
            per_language[lang].append(comment)
    return {lang: _themes(lang, group, top, min_comments) for lang, group in sorted(per_language.items())}


def _themes(lang: str, comments: list[Comment], top: int, min_comments: int) -> list[Theme]:
    mentions: Counter[str] = Counter()
    praise: Counter[str] = Counter()
    complaints: Counter[str] = Counter()
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for comment in comments:
        terms: dict[str, str] = {}
        for key, surface in terms_of(lang, comment.text[:MAX_COMMENT_CHARS]):
            terms.setdefault(key, surface)
            surfaces[key][surface] += 1
        mentions.update(terms.keys())
        if comment.sentiment > 0:
            praise.update(terms.keys())
        elif comment.sentiment < 0:
            complaints.update(terms.keys())
    ranked = sorted((k for k, n in mentions.items() if n >= min_comments), key=lambda k: (-mentions[k], k))
    return [Theme(term=surfaces[k].most_common(1)[0][0], comments=mentions[k],
                  share=round(mentions[k] / len(comments), 4), praise=praise[k], complaints=complaints[k])
            for k in ranked[:top]]


def terms_of(lang: str, text: str) -> list[tuple[str, str]]:
    """(key, surface) of each content word of ``text``: the key groups forms of one word."""
    if lang == "ja":
        return _japanese_terms(text)
    if lang == "zh":
        return _chinese_terms(text)
    stop = _stopwords(lang)
    stemmer = _stemmer(lang)
    words = [w for w in WORD.findall(text) if not w.isdigit() and w.lower() not in stop]
    return list(zip(stemmer.stemWords([w.lower() for w in words]), words, strict=True))


def _japanese_terms(text: str) -> list[tuple[str, str]]:
    stop = _stopwords("ja")
    terms = []
    for morpheme in _sudachi().tokenize(text):
        pos = morpheme.part_of_speech()
        if pos[0] not in JA_CONTENT or pos[1] in JA_NOT_CONTENT:
            continue
        base = morpheme.dictionary_form()
        if len(base) > 1 and base not in stop:
            terms.append((morpheme.normalized_form(), base))
    return terms


def _chinese_terms(text: str) -> list[tuple[str, str]]:
    stop = _stopwords("zh")
    return [(pair.word, pair.word) for pair in _jieba().cut(text)
            if pair.flag[:1] in ZH_CONTENT and len(pair.word) > 1 and pair.word not in stop]


@cache
def _stopwords(lang: str) -> frozenset[str]:
    return frozenset(stopwordsiso.stopwords(lang))


@cache
def _stemmer(lang: str):
    return snowballstemmer.stemmer(STEMMERS[lang])


@cache
def _sudachi():
    from sudachipy import Dictionary, SplitMode  # loaded on first use: 110 MB of dictionary

    return Dictionary(dict="small").tokenizer(mode=SplitMode.C)


@cache
def _jieba():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)  # its dictionary build logs on every process start
    return jieba.posseg
