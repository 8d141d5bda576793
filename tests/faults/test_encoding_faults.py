"""Every encoding Russian users send, on txt and csv, small and large: the exact text or a refusal.

Titles are written here (not taken from examples/), with what real catalogues have: capitals,
ALL-CAPS lines, ё, «quotes», №, dashes, Latin brands and numbers. A title a code page cannot
hold (« in KOI8-R) is left out of that code page's files, as no such file could contain it.
"""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest

from tuning.data import CorpusError, load_corpus, preview
from tuning.encodings import OFFERED_ENCODINGS

pytestmark = pytest.mark.fault
TITLES = """Смартфон Samsung Galaxy A55 8/256 ГБ, тёмно-синий
Телевизор Haier 50 Smart TV S1, 4K UHD
ЧАЙНИК ЭЛЕКТРИЧЕСКИЙ POLARIS PWK 1725CGL 1,7 Л
Щётка для пола с телескопической ручкой, 120 см
Ёлочная гирлянда «Нить» 10 м, тёплый белый
Юбка женская плиссированная, р. 46, бежевая
Кофеварка рожковая Kitfort КТ-718 — 15 бар
Пылесос вертикальный Dreame T30 Neo
Наушники беспроводные JBL Tune 520BT, чёрные
Шампунь Head & Shoulders «Основной уход» 400 мл
Жидкое мыло Palmolive Натурэль, 300 мл
Хлебцы ржаные Dr. Körner, 100 г
Утюг Tefal FV2868E0 Virtuo, 2000 Вт
Игрушка конструктор LEGO City 60337 Пассажирский поезд
Подушка ортопедическая с эффектом памяти 60×40 см
Масло моторное Лукойл Люкс 5W-40, 4 л
Детская коляска 2 в 1 Tutis Zippy Tech, графит
Фильтр для воды Аквафор Кристалл Эко Н
Экшн-камера GoPro HERO12 Black
Стиральный порошок Tide Альпийская свежесть, 6 кг
Роутер Wi-Fi TP-Link Archer C6 AC1200
Куртка мужская зимняя, размер 52, хаки
Набор кастрюль из нержавеющей стали, 6 предметов
Фен-щётка Philips BHA735/00 № 7
Цифровой термометр для мяса с зондом
Электрогриль Redmond SteakMaster RGM-M807
Ноутбук ASUS VivoBook 15 X1504ZA, 16 ГБ, SSD 512 ГБ
Газонокосилка бензиновая Huter GLM-5.0 S
Сыр полутвёрдый Российский 50%, 200 г
Обогреватель масляный Ballu Classic BOH/CL-09, 9 секций
Повербанк Xiaomi 20000 мАч, 22,5 Вт
Процессор AMD Ryzen 5 7600, 3,8 ГГц, 6 ядер
Тепловая пушка электрическая 3 кВт""".splitlines()
EIGHT_BIT = ("cp1251", "koi8-r", "cp866", "mac-cyrillic", "iso8859-5")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", *EIGHT_BIT)
SIZES = (5, 8, 13, 20, 30)
REFUSAL_WORDS = ("encoding", "UTF-8", "mojibake")


def _titles(encoding: str, n: int, offset: int = 0) -> list[str]:
    fits = [t for t in TITLES if _encodes(t, encoding)]
    return [fits[(offset + i) % len(fits)] for i in range(min(n, len(fits)))]


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _write(tmp_path: Path, kind: str, titles: list[str], encoding: str) -> Path:
    if kind == "txt":
        body = "\n".join(titles) + "\n"
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";")
        writer.writerow(["Артикул", "Название", "Цена, ₽" if _encodes("₽", encoding) else "Цена"])
        writer.writerows([10_000 + i, t, 199 + 37 * i] for i, t in enumerate(titles))
        body = buf.getvalue()
    path = tmp_path / f"corpus.{kind}"
    path.write_bytes(body.encode(encoding))
    return path


@pytest.mark.parametrize("kind", ["txt", "csv"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_gives_the_exact_text_or_a_clear_refusal(
        encoding: str, size: int, kind: str, tmp_path: Path) -> None:
    titles = _titles(encoding, size, offset=size)
    path = _write(tmp_path, kind, titles, encoding)
    try:
        corpus = load_corpus(path, "Название" if kind == "csv" else None)
    except CorpusError as exc:  # allowed, never silent: the message names the way out
        assert any(w in str(exc) for w in REFUSAL_WORDS), str(exc)
        pytest.fail(f"refused a {size}-line {encoding} {kind} (allowed, but not expected here): {exc}")
    assert corpus.texts == titles
    assert codecs.lookup(corpus.encoding).name == codecs.lookup(encoding).name or (
        encoding == "utf-16" and corpus.encoding == "utf-16")


@pytest.mark.parametrize("encoding", EIGHT_BIT)
def test_one_line_files_are_right_or_refused_never_mojibake(encoding: str, tmp_path: Path) -> None:
    for offset in range(len(TITLES)):
        (title,) = _titles(encoding, 1, offset)
        path = tmp_path / "one.txt"
        path.write_bytes((title + "\n").encode(encoding))
        try:
            assert load_corpus(path).texts == [title]
        except CorpusError as exc:
            assert any(w in str(exc) for w in REFUSAL_WORDS), str(exc)


@pytest.mark.parametrize("encoding", EIGHT_BIT + ("utf-16",))
def test_preview_offers_encodings_and_the_override_is_used(encoding: str, tmp_path: Path) -> None:
    titles = _titles(encoding, 8)
    path = _write(tmp_path, "txt", titles, encoding)
    info = preview(path, encoding=encoding)
    assert info["sample"] == titles[:5] and info["encoding"] == encoding
    assert info["encodings"] == list(OFFERED_ENCODINGS)
    assert "utf-16" in info["encodings"] and "koi8-r" in info["encodings"]


@pytest.mark.parametrize("wrong", ["koi8-r", "cp866", "mac-cyrillic", "iso8859-5", "utf-8", "utf-16"])
def test_a_wrong_override_is_refused_not_trained_on(wrong: str, tmp_path: Path) -> None:
    path = _write(tmp_path, "csv", _titles("cp1251", 20), "cp1251")
    with pytest.raises(CorpusError, match="encoding|mojibake|not valid"):
        load_corpus(path, "Название", encoding=wrong)
    with pytest.raises(CorpusError, match="Unknown encoding"):
        load_corpus(path, encoding="klingon-8")


@pytest.mark.parametrize("source, misread", [("koi8-r", "cp1251"), ("cp866", "cp1251"),
                                             ("utf-8", "cp1251"), ("mac-cyrillic", "cp1251"),
                                             ("cp1251", "koi8-r"), ("cp1251", "cp866")])
def test_mojibake_saved_as_utf8_is_refused(source: str, misread: str, tmp_path: Path) -> None:
    text = "\n".join(_titles(source, 20)) + "\n"
    garbled = text.encode(source).decode(misread, errors="replace")
    path = tmp_path / "moji.txt"
    path.write_bytes(garbled.encode("utf-8"))
    with pytest.raises(CorpusError, match="language|mojibake"):
        load_corpus(path)


def test_utf16_without_bom_and_utf32_with_bom(tmp_path: Path) -> None:
    titles = _titles("utf-8", 6)
    for encoding in ("utf-16-le", "utf-32"):
        path = tmp_path / "u.txt"
        path.write_bytes(("\n".join(titles) + "\n").encode(encoding))
        assert load_corpus(path).texts == titles


def test_binary_with_a_utf16_bom_is_still_refused(tmp_path: Path) -> None:
    import random

    rng = random.Random(0)
    path = tmp_path / "fake.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + bytes(rng.randrange(256) for _ in range(4000)))
    with pytest.raises(CorpusError):
        load_corpus(path)
