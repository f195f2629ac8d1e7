"""Catalog records at any scale without files: realistic Chinese and English titles,
descriptions and transcripts, deterministic for a seed, bulk-inserted (Core, not the ORM).

    python -m benchmarks.generators.records CATALOG.db 20000
"""
from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Iterator

from sqlalchemy import insert

from archive.catalog import Catalog
from archive.models import File, FileText, Item, Root
from archive.scientists import ScientistRecord, upsert_scientist

SCIENTISTS = [
    ("钱学森", ("Qian Xuesen", "Tsien Hsue-shen", "錢學森")),
    ("钱三强", ("Qian Sanqiang", "Tsien San-Tsiang")),
    ("赵九章", ("Zhao Jiuzhang", "Chao Jiu-zhang")),
    ("邓稼先", ("Deng Jiaxian", "鄧稼先")),
    ("王淦昌", ("Wang Ganchang", "Kan-Chang Wang")),
    ("华罗庚", ("Hua Luogeng", "Hua Loo-keng", "華羅庚")),
    ("竺可桢", ("Zhu Kezhen", "Chu Coching")),
    ("李四光", ("Li Siguang", "J. S. Lee")),
    ("茅以升", ("Mao Yisheng", "Thomas Mao")),
    ("周培源", ("Zhou Peiyuan", "Chou Pei-yuan")),
]
ZH_TERMS = ("导弹 火箭 人造卫星 原子能 核物理 气象 地质 力学 数学 桥梁 研究所 实验室 计算 "
            "设计 试验 发射 轨道 控制论 工程 理论 学生 教授 会议 报告 规划 国防 科学院 大学 "
            "留学 回国 合作 讨论 问题 方法 结果 数据 仪器 观测 地震 石油 高空 大气 中子 "
            "加速器 反应堆 材料 风洞 燃料 发动机 通信 雷达 天文 物理 化学 生物 农业 医学 "
            "教育 翻译 论文 手稿 笔记 书信 照片 采访 回忆 历史 访谈 同志 先生 老师").split()
ZH_GLUE = list("的了在是和与对为把向从也都就要将已并而及其这那我你他们我们")
EN_TERMS = ("rocket missile satellite engineering cybernetics laboratory experiment theory "
            "institute university professor lecture report meeting design test launch orbit "
            "control nuclear physics meteorology geology mechanics mathematics bridge "
            "atmosphere reactor accelerator wind tunnel fuel engine radar astronomy letter "
            "manuscript interview memory history student colleague research results data").split()
# Bump when the records generated for a seed change: catalogs cached by the benchmarks are
# keyed by it (benchmarks/search_bench.py, cached_catalog).
VERSION = 1
TYPES = ("letter", "manuscript", "photograph", "audio", "video", "document")
TYPE_WEIGHTS = (30, 15, 25, 12, 6, 12)


def _zh_sentence(rng: random.Random, words: int) -> str:
    out = []
    for _ in range(words):
        out.append(rng.choice(ZH_TERMS))
        if rng.random() < 0.5:
            out.append(rng.choice(ZH_GLUE))
    return "".join(out) + "。"


def _en_sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(EN_TERMS) for _ in range(words)).capitalize() + "."


def text_of(rng: random.Random, chars: int) -> str:
    parts, size = [], 0
    while size < chars:
        s = _zh_sentence(rng, rng.randint(4, 12)) if rng.random() < 0.8 else \
            _en_sentence(rng, rng.randint(5, 14))
        parts.append(s)
        size += len(s)
    return "".join(parts)


def _records(n: int, seed: int, root_id: int, scientist_ids: list[int]) -> Iterator[tuple]:
    rng = random.Random(seed)
    for i in range(1, n + 1):
        mtype = rng.choices(TYPES, TYPE_WEIGHTS)[0]
        year = rng.randint(1935, 2005)
        start = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        sid = rng.choice(scientist_ids)
        title = _zh_sentence(rng, rng.randint(2, 4))[:-1] if rng.random() < 0.8 else \
            _en_sentence(rng, rng.randint(3, 6))[:-1]
        length = rng.randint(300, 3000) if mtype in ("letter", "manuscript", "audio",
                                                       "document", "video") else 60
        seconds = rng.randint(300, 7200) if mtype in ("audio", "video") else None
        access = rng.choices(("open", "restricted", "closed"), (90, 7, 3))[0]
        item = {"id": i, "accession": f"BEN-{mtype[0].upper()}-{i:07d}", "root_id": root_id,
                "key": f"bench/{i}", "title": title, "type": mtype, "scientist_id": sid,
                "date": start.isoformat(), "date_start": start, "date_end": start,
                "date_precision": "day", "description": text_of(rng, 80), "access": access,
                "seconds": seconds}
        file = {"id": i, "item_id": i, "root_id": root_id, "path": f"bench/{i:07d}.txt",
                "folder": "bench", "size": length * 3, "mtime_ns": 0, "role": "master",
                "sha256": f"{i:064x}", "mime": "text/plain", "format": "txt",
                "duration": float(seconds) if seconds else None}
        body = text_of(rng, length)
        cues = None
        if mtype == "audio":
            step = seconds / 20 if seconds else 10
            sentences = [body[j:j + 80] for j in range(0, len(body), 80)][:20]
            cues = [[round(k * step, 2), round((k + 1) * step, 2), s]
                    for k, s in enumerate(sentences)]
        yield item, file, {"file_id": i, "text": body, "cues": cues}


def generate(catalog: Catalog, n: int, seed: int = 7, chunk: int = 2000) -> None:
    """Fill an empty catalog with n items, each with one file and its text."""
    with catalog.session() as s:
        root = Root(path="/bench")
        s.add(root)
        s.flush()
        ids = [upsert_scientist(s, ScientistRecord(name, variants))[0].id
               for name, variants in SCIENTISTS]
        root_id = root.id
    batch: list[tuple] = []
    for record in _records(n, seed, root_id, ids):
        batch.append(record)
        if len(batch) >= chunk:
            _flush(catalog, batch)
    _flush(catalog, batch)


def _flush(catalog: Catalog, batch: list[tuple]) -> None:
    if not batch:
        return
    with catalog.session() as s:
        s.execute(insert(Item), [b[0] for b in batch])
        s.execute(insert(File), [b[1] for b in batch])
        s.execute(insert(FileText), [b[2] for b in batch])
    batch.clear()


if __name__ == "__main__":
    from archive.settings import load_settings
    path, count = sys.argv[1], int(sys.argv[2])
    generate(Catalog.open(load_settings({"catalog": path})), count)
    print(f"{count} items in {path}")
