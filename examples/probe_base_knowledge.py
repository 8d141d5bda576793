"""What the offline Gemma 3 270M base knows, asked two ways: bare "Вопрос: …\nОтвет:" (qa) and
with two solved examples first (fewshot), next to the demo LoRA on the same prompts.

Why: a control question can only show a LoRA's damage if the base gets it right. This probe
picked the capitals control of `cartoon_eval.jsonl` ("Столицы"). Greedy, 12 new tokens,
answer = first line, correct = the stem is a case-insensitive substring (ё = е).

    HF_HUB_OFFLINE=1 PYTHONPATH=. python examples/probe_base_knowledge.py

Measured 2026-12-05 (the answers do not depend on the machine's load): base correct 8 of 30
with fewshot, 5 of 30 with qa; the six capitals of the control set (France, Russia, Japan,
Germany, UK, China) 6 of 6 with fewshot (Japan answered "Tokyo": the control set accepts it, this
probe's single stem does not) and 4 of 6 with qa; the demo LoRA answers the capitals 0 of 6 (fewshot)
and 1 of 6 (qa): it writes about its cartoon characters, spiders or planets instead; of all
30 it gets 1 (fewshot) and 3 (qa).
"""
import time

from comparison.basics import torch_threads
from comparison.explorer import BASE, load_explorer

QUESTIONS = [("Какой город столица Франции?","Париж"),("Какой город столица России?","Москв"),("Какой город столица Японии?","Токио"),
("Какой город столица Италии?","Рим"),("Какой город столица Германии?","Берлин"),("Какой город столица Великобритании?","Лондон"),
("Какой город столица Испании?","Мадрид"),("Какой город столица Китая?","Пекин"),("Какой город столица США?","Вашингтон"),
("Какого цвета снег?","бел"),("Какого цвета трава?","зел"),("Какого цвета кровь?","красн"),("Какого цвета уголь?","ч"),
("Какого цвета небо в ясный день?","голуб"),("Какого цвета лимон?","ж"),("Какое животное говорит «мяу»?","кош"),
("Какое животное лает?","соба"),("Сколько дней в неделе?","сем"),("Сколько месяцев в году?","двенадцат"),
("Кто написал роман «Война и мир»?","Толст"),("Кто написал «Евгения Онегина»?","Пушкин"),("Какая самая длинная река в России?","Лен"),
("На какой планете мы живём?","Земл"),("Какое животное самое большое на Земле?","кит"),("Из чего делают хлеб?","мук"),
("Какой океан самый большой?","Тих"),("Кто был первым человеком в космосе?","Гагарин"),("Какой газ нужен людям для дыхания?","кислород"),
("Как называется наша звезда?","Солнц"),("Сколько будет два плюс два?","четыр")]


def main() -> None:
    ex = load_explorer("offline")
    print(ex.model_label, ex.adapter_label, flush=True)
    with torch_threads():
        for fmt in ("fewshot","qa"):
            t=time.time()
            a = ex.batch_answers([q for q, _ in QUESTIONS], [BASE] * len(QUESTIONS), fmt=fmt, max_new_tokens=12)
            l = ex.batch_answers([q for q, _ in QUESTIONS], ["explorer"] * len(QUESTIONS), fmt=fmt, max_new_tokens=12)
            ok = 0
            for (q,e),x,y in zip(QUESTIONS, a, l):
                hb = e.lower().replace("ё","е") in x.lower().replace("ё","е"); hl = e.lower().replace("ё","е") in y.lower().replace("ё","е")
                ok += hb
                print(fmt, int(hb), int(hl), q, "|", x, "|", y)
            print(fmt, "base correct", ok, "of", len(QUESTIONS), time.time()-t, flush=True)


if __name__ == "__main__":
    main()
