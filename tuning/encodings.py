"""Bytes to text for corpus uploads: the right text in any Cyrillic encoding, or a clear refusal.

Why not charset-normalizer alone (measured on our product titles, 1-50 lines per file): it
names cp1125 for every cp866 file (same letters, wrong name), reads 20-50 % of short
mac-cyrillic files as cp1251 (every capital becomes a quote or a Serbian letter:
"Смартфон" -> "‘мартфон") and one-line koi8-r files as Shift-JIS or Big5. Overriding it with
"cp1251 whenever that decodes to Cyrillic" (the old rule) turned KOI8-R, CP866, Mac and
ISO-8859-5 files into mojibake, because every one of them decodes to Cyrillic in cp1251.

So its answer is one candidate among the Cyrillic code pages, and each candidate text is
scored by how Russian its non-ASCII characters are (letter frequencies, capitals where words
start rather than mid-word, few symbols no Russian text uses). All these code pages agree on
ASCII, so only the bytes >= 0x80 can tell them apart, and the true reading scores best by a
wide margin. Equal texts are equally good: then the name is taken in OFFERED order (cp1251
first, the tie-break). A near tie between different texts, or a best text that still does
not look like language, is refused with a message instead of being trained on.
"""
from __future__ import annotations

import codecs
import math
import re
import unicodedata
from dataclasses import dataclass

from charset_normalizer import from_bytes

# What the preview offers as an override, in tie-break order for single-byte Cyrillic.
OFFERED_ENCODINGS = ("utf-8", "cp1251", "koi8-r", "cp866", "mac-cyrillic", "iso8859-5", "utf-16")
CYRILLIC_8BIT = ("cp1251", "koi8-r", "cp866", "mac-cyrillic", "iso8859-5")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Russian letter frequencies (share of letters in running text).
_FREQ = dict(zip("оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё", (
    10.97, 8.45, 8.01, 7.35, 6.70, 6.26, 5.47, 4.73, 4.54, 4.40, 3.49, 3.21, 2.98, 2.81, 2.62, 2.01,
    1.90, 1.74, 1.70, 1.65, 1.59, 1.44, 1.21, 0.97, 0.94, 0.73, 0.64, 0.48, 0.36, 0.32, 0.26, 0.04,
    0.20)))
_LOG_FREQ = {c: math.log(f / 100) for c, f in _FREQ.items()}
_NEIGHBOUR_LETTERS = set("іїєґўІЇЄҐЎ")  # Ukrainian / Belarusian: plausible, not Russian
_SERBIAN = set("ЂЃЉЊЌЋЏђѓљњќћџЈјЅѕ")  # what cp1251 makes of other code pages' letters
_TYPOGRAPHY = set("«»„“”‘’–—…№°±×•·€₽™®©\u00a0²³½¼¾✓")
_LOG_NEIGHBOUR, _LOG_TYPO, _LOG_LETTER, _LOG_ODD = math.log(2e-3), math.log(2e-3), math.log(1e-5), math.log(1e-6)
_WORD = re.compile(r"[^\W\d_]+")
_UNITS = {"мАч", "кВт", "мВт", "МВт", "ГГц", "МГц", "кГц", "кВА", "мкФ", "МПа", "кПа", "ГБайт", "МБайт",
          "кБайт", "ТБайт", "дБ", "мА", "кА", "кВ", "мВ", "мТл", "кОм", "МОм", "мкм"}
_GLUED = re.compile(r"[‘’”•–—…™‚†‡€‰‹›][а-яё]")
AMBIGUOUS_NATS = 3.0
MIN_MEAN_LOG_FREQ = -3.7
# How much evidence (nats) a rarer code page needs to beat cp1251 on a short file.
_LOG_PRIOR = {"cp1251": 0.0, "koi8-r": -1.0, "cp866": -1.0, "mac-cyrillic": -1.5, "iso8859-5": -2.0,
              "other": -1.0}  # two different texts closer than this: we cannot tell which is right


class EncodingError(ValueError):
    """The bytes cannot be turned into trustworthy text; the message is meant for the user."""


@dataclass(frozen=True)
class Reading:
    """One way of decoding the file and how Russian its non-ASCII part looks."""

    encoding: str
    text: str
    score: float  # log-likelihood of the non-ASCII characters (higher is more Russian)
    n_high: int  # non-ASCII characters
    n_russian: int  # Russian letters among them
    n_odd: int  # characters no Russian text uses (box drawing, Serbian letters, CJK, ...)
    n_case_breaks: int  # a capital right after a small Cyrillic letter ("оБЪЧБОЙЕ")

    def looks_russian(self) -> bool:
        """Mostly Russian letters, almost nothing odd, capitals where words start."""
        if not self.n_russian:
            return False
        letters_fit = self.n_russian < 20 or self.mean_letter_log_freq() >= MIN_MEAN_LOG_FREQ
        return (self.n_russian >= 0.6 * self.n_high and self.n_odd <= max(1, 0.02 * self.n_high)
                and self.n_case_breaks <= max(1, 0.03 * self.n_russian) and letters_fit)

    def mean_letter_log_freq(self) -> float:
        """Mean log frequency of the Russian letters: about -3.0 for Russian, -4 for a jumble."""
        return sum(_LOG_FREQ[c.lower()] for c in self.text if c.lower() in _LOG_FREQ) / max(self.n_russian, 1)


def _char_score(ch: str) -> tuple[float, str]:
    low = ch.lower()
    if low in _LOG_FREQ:
        return _LOG_FREQ[low], "ru"
    if ch in _NEIGHBOUR_LETTERS:
        return _LOG_NEIGHBOUR, "near"
    if ch in _TYPOGRAPHY:
        return _LOG_TYPO, "typo"
    if ch.isalpha() and unicodedata.category(ch) in ("Ll", "Lu"):
        return _LOG_LETTER, "odd" if "\u0400" <= ch <= "\u04ff" else "letter"
    return _LOG_ODD, "odd"


def _case_breaks(word: str) -> int:
    """Case changes a Russian word never has: lower then upper ("оБЪЧ"), capitals then small
    letters ("ИЯБзп"), Latin glued to Cyrillic ("Cafй")."""
    if word in _UNITS:
        return 0
    breaks = 0
    for i, (a, b) in enumerate(zip(word, word[1:])):
        if a.islower() and b.isupper() or a.isascii() != b.isascii():
            breaks += 1
        elif b.islower() and a.isupper() and i and word[i - 1].isupper():
            breaks += 1
    return breaks


def read_as(raw: bytes, encoding: str) -> Reading:
    """Decode strictly and score; UnicodeDecodeError when the bytes are not valid there."""
    return score_text(raw.decode(encoding), encoding)


def score_text(text: str, encoding: str) -> Reading:
    """How Russian the non-ASCII characters of `text` look (see `Reading`).

    Letters are scored by frequency alone and case word by word (lower, Title, ALL CAPS are
    all normal), so an all-caps reading and a lowercase reading compete on letters only.
    """
    score, counts = 0.0, {"ru": 0, "odd": 0}
    n_high = breaks = 0
    for ch in text:
        if ch >= "\x80":
            n_high += 1
            s, kind = _char_score(ch)
            score += s
            counts[kind] = counts.get(kind, 0) + 1
    # A dash, bullet or closing quote glued to a small letter is what capitals of another code
    # page look like in cp1251 ("—айник", "‘мартфон"); opening quotes before words are normal.
    score += math.log(0.02) * len(_GLUED.findall(text))
    for word in _WORD.findall(text):
        if any(c.lower() in _LOG_FREQ for c in word):
            n = _case_breaks(word)
            breaks += n
            score += math.log(0.005) * n
    return Reading(encoding, text, score, n_high, counts["ru"], counts["odd"], breaks)


def _canonical(encoding: str) -> str:
    return codecs.lookup(encoding).name


def _not_text_error(reading: Reading | None, detail: str) -> EncodingError:
    sample = ""
    if reading is not None:
        line = next((ln for ln in reading.text.splitlines() if any(c >= "\x80" for c in ln)), "")
        sample = f" (read as {reading.encoding}: {line.strip()[:60]!r})" if line else ""
    return EncodingError(f"The file's text does not look like language in any encoding we know{sample}. "
                         f"{detail}Save it as UTF-8, or choose its encoding in the preview "
                         f"({', '.join(OFFERED_ENCODINGS)}).")


def _generic_ok(text: str, share: float = 0.001) -> bool:
    """Any language: (almost) no control, unassigned or private-use characters, no U+FFFD."""
    bad = sum(1 for c in text if c not in "\t\n\r" and unicodedata.category(c) in ("Cc", "Cn", "Co", "Cs")
              or c == "\ufffd")
    return bad <= len(text) * share


def _double_encoded(text: str) -> str | None:
    """The code page whose mojibake this UTF-8 text is ("РЎРјР°СЂС‚" is UTF-8 read as cp1251)."""
    if sum(1 for c in text if c >= "\x80") < 4:
        return None
    for enc in CYRILLIC_8BIT:
        try:
            fixed = text.encode(enc).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if len(fixed) < len(text):
            return enc
    return None


def _check_unicode(text: str, encoding: str) -> str:
    """Valid Unicode can still be garbage: binary read as UTF-16, or mojibake saved again."""
    if encoding != "utf-8" and not _generic_ok(text, 0.05):  # stray controls are cleaned later
        raise _not_text_error(None, f"Read as {encoding} it has control or unassigned characters. ")
    reading = score_text(text, encoding)
    if reading.n_russian >= 20 and not reading.looks_russian() and (
            reading.n_case_breaks > 0.03 * reading.n_russian
            or sum(c in _SERBIAN for c in text) > 0.02 * reading.n_russian):
        raise _not_text_error(reading, "It was decoded in a wrong code page before it was saved. ")
    enc = _double_encoded(text)
    if enc is not None:
        raise EncodingError(f"The file is {encoding}, but its text is mojibake (UTF-8 that was once "
                            f"read as {enc} and saved again, e.g. 'РЎРјР°СЂС‚'). Re-export it from the "
                            "original source as UTF-8.")
    return text


def _unicode_bom(raw: bytes) -> tuple[str, str] | None:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(encoding if encoding == "utf-8-sig" else _bom_codec(bom))
            except UnicodeDecodeError:
                raise EncodingError(f"The file starts with a {encoding} byte-order mark but is not "
                                    f"valid {encoding}.") from None
            return text, encoding
    return None


def _bom_codec(bom: bytes) -> str:
    return {codecs.BOM_UTF32_LE: "utf-32-le", codecs.BOM_UTF32_BE: "utf-32-be",
            codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}[bom]


def _bomless_utf16(raw: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM: ASCII or Cyrillic text has a zero or 0x04 in every other byte."""
    for encoding, high in (("utf-16-le", raw[1::2]), ("utf-16-be", raw[0::2])):
        if len(raw) % 2 == 0 and high and sum(b in (0, 4) for b in high) >= 0.95 * len(high):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            if _generic_ok(text):
                return text, encoding
    return None


def _posterior(reading: Reading) -> float:
    """Score plus how common the code page is among Russian files (cp1251 by far)."""
    return reading.score + _LOG_PRIOR.get(reading.encoding, _LOG_PRIOR["other"])


def detect_8bit(raw: bytes) -> Reading:
    """Best reading of bytes that are neither UTF-8 nor carry a BOM (see the module doc)."""
    sample = raw[:2_000_000]
    readings: dict[str, Reading] = {}
    for enc in CYRILLIC_8BIT:
        try:
            readings[enc] = read_as(sample, enc)
        except UnicodeDecodeError:  # cp1251 has holes (0x98): not this code page
            continue
    best_cn = from_bytes(sample).best()
    cn_reading = None
    if best_cn is not None and best_cn.encoding:
        try:
            cn_reading = read_as(sample, best_cn.encoding)
        except (UnicodeDecodeError, LookupError):
            cn_reading = None
    plausible = [r for r in readings.values() if r.looks_russian()]
    # charset-normalizer's answer competes when it is Russian too, and stands alone otherwise
    # (a file in a non-Cyrillic code page); an equal text keeps the Cyrillic name.
    if cn_reading is not None and cn_reading.text not in {r.text for r in plausible} and (
            cn_reading.looks_russian() or not plausible):
        plausible.append(cn_reading)
    if not plausible:
        raise _not_text_error(next(iter(readings.values()), None), "")
    order = {enc: i for i, enc in enumerate(CYRILLIC_8BIT)}
    ranked = sorted(plausible, key=lambda r: (-_posterior(r), order.get(r.encoding, len(order))))
    best = ranked[0]
    rival = next((r for r in ranked[1:] if r.text != best.text), None)
    if rival is not None and _posterior(best) - _posterior(rival) < AMBIGUOUS_NATS:
        raise EncodingError(f"Cannot tell whether the file is {best.encoding} or {rival.encoding} (both "
                            "read as plausible, different text). Choose its encoding in the preview, "
                            "or save it as UTF-8.")
    if best is cn_reading and not best.looks_russian():
        # A non-Cyrillic file (cp1252 French, GBK Chinese) only when charset-normalizer is sure
        # and the text is not Cyrillic mojibake of some kind.
        cyrillic = sum(1 for c in best.text if "\u0400" <= c <= "\u04ff")
        if not _generic_ok(best.text) or best_cn.chaos > 0.1 or cyrillic > 0.1 * best.n_high:  # type: ignore[union-attr]
            raise _not_text_error(next(iter(readings.values()), None), "")
    return best


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding name) of an upload; EncodingError with a user message when untrustworthy."""
    if encoding:
        return _decode_as(raw, encoding)
    bom = _unicode_bom(raw)
    if bom is not None:
        return _check_unicode(bom[0], bom[1]), bom[1]
    if b"\x00" in raw[:8192]:
        utf16 = _bomless_utf16(raw)
        if utf16 is None:
            raise EncodingError("This is not a text/table file (it contains binary data).")
        return _check_unicode(*utf16), utf16[1]
    try:
        return _check_unicode(raw.decode("utf-8"), "utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = detect_8bit(raw)
    name = best.encoding if best.encoding in CYRILLIC_8BIT else _canonical(best.encoding)
    text = best.text if len(raw) <= 2_000_000 else raw.decode(best.encoding, errors="replace")
    return text, name


def _decode_as(raw: bytes, encoding: str) -> tuple[str, str]:
    """The user's choice, decoded strictly and still checked: a wrong choice is refused, not used."""
    try:
        name = _canonical(encoding)
    except LookupError:
        raise EncodingError(f"Unknown encoding {encoding!r}; choose one of "
                            f"{', '.join(OFFERED_ENCODINGS)}.") from None
    if name == "utf-8" and raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    try:
        reading = read_as(raw, encoding)
    except UnicodeDecodeError as exc:
        raise EncodingError(f"The file is not valid {encoding} (byte {exc.start}); choose another "
                            "encoding or leave it to detection.") from None
    if name in {_canonical(e) for e in CYRILLIC_8BIT} and reading.n_high and not reading.looks_russian():
        raise _not_text_error(reading, f"Read as {encoding} it is mojibake. ")
    return _check_unicode(reading.text, encoding), encoding
