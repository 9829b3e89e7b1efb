"""Search folding (issue #15): which OpenCC chain, or which table, brings a mainland word and its
Taiwan or Hong Kong spelling to one form without rewriting mainland words, measured on the
words and sentences of ``tests/common/fold_words.py``; and the generator of the Taiwan phrase
table that ``server/common/folding.py`` uses.

    .venv/bin/python bench/fold_bench.py            # the table of results (a few seconds)
    .venv/bin/python bench/fold_bench.py --write    # regenerate server/common/fold_phrases.py

The table is made from OpenCC's own ``TWPhrases`` dictionary (mainland phrase → Taiwan
phrases), read with the ``opencc_dict`` tool that the ``opencc`` wheel ships, turned around:
each Taiwan phrase maps to the mainland phrase OpenCC's ``TWPhrasesRev`` lists first for it,
except

- a phrase that is also a mainland phrase of the dictionary (程序, 文件, 地址): the mainland
  reading wins, and it is left alone (``tw2sp`` turns 程序 into 进程 and 文件 into 文档); but not
  one that the dictionary maps to itself only to keep it whole while other mainland phrases
  become it (預設, which 缺省 and 默認 become; 演算法, which 算法 becomes);
- the phrases of ``EVERYDAY``, everyday mainland words or Taiwan words whose everyday meaning is
  the mainland word of the same characters (行程, 核心, 指標 …): characters only;
- ``MEETING``: where several mainland phrases share a Taiwan one, the one they meet at.

A mainland phrase that contains a Taiwan one (方程式 holds 程式) maps to itself, so that the
longest match keeps it whole.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "server" / "common" / "fold_phrases.py"

# Left to character conversion: everyday mainland words (left: the mainland word a Taiwan
# phrase table would make of it), or Taiwan words whose everyday sense is the mainland word of
# the same characters.
EVERYDAY = {
    # written alike on both sides, everyday mainland words of their own
    "桌布": "tablecloth, not 壁纸",
    "新增": "newly added (新增病例), not 添加",
    "建立": "establish (建立关系), not 创建",
    "智慧": "wisdom, not 智能",
    "向量": "the mainland's vector (向量数据库), not 矢量",
    "停用": "stop using, not 禁用",
    "存取": "deposit and withdraw, not 访问",
    "呼叫": "call (呼叫中心), not 调用",
    "核心": "core (核心竞争力), not 内核",
    "外接": "external (外接显示器), not 外置",
    "遮蔽": "cover, not 屏蔽",
    "效能": "efficacy, not 性能",
    "元件": "component (电子元件), not 组件",
    "宣告": "announce (宣告破产), not 声明",
    "行程": "itinerary, not 进程",
    "整合": "integrate (资源整合), not 集成",
    "序列": "sequence (序列号), not 串行",
    "影像": "imaging (医学影像), not 图像",
    "重新整理": "reorganise, not 刷新",
    # Taiwan words whose everyday sense is the mainland word of the same characters
    "指標": "indicator (指标), pointer only in programming",
    "複製": "copy (复制), as the mainland says",
    "執行": "execute (执行)",
    "查詢": "query (查询)",
    "聯絡": "contact (联络)",
    "通訊": "communication (通讯录)",
    "傳送": "send (传送)",
    "開啟": "open (开启)",
    "儲存": "store (储存)",
    "即時": "instant (即时)",
    "互動": "interact (互动)",
    "互動式": "interactive (互动式)",
    "截圖": "screenshot (截图)",
    "啟用": "enable (启用)",
    "簡報": "briefing, presentation (简报)",
}
# Taiwan phrase → the mainland phrase several mainland ones meet at (OpenCC lists 預設 first).
MEETING = {"預設": "默認"}


def _opencc_dict(name: str) -> dict[str, list[str]]:
    """An OpenCC dictionary of the installed wheel, as ``{key: [values]}``."""
    import opencc

    base = Path(opencc.__file__).parent / "clib"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{name}.txt"
        subprocess.run(
            [
                str(base / "bin" / "opencc_dict"),
                *("-i", str(base / "share" / "opencc" / f"{name}.ocd2")),
                *("-o", str(out), "-f", "ocd2", "-t", "text"),
            ],
            check=True,
        )
        lines = out.read_text().splitlines()
    return {k: v.split(" ") for k, v in (line.split("\t") for line in lines)}


def build_table() -> dict[str, str]:
    """Taiwan phrase (as written, lower case) → mainland phrase (Simplified, lower case)."""
    import opencc

    t2s = opencc.OpenCC("t2s")
    forward, reverse = _opencc_dict("TWPhrases"), _opencc_dict("TWPhrasesRev")
    # 預設 → 預設 is in TWPhrases to keep it whole, and 缺省 and 默認 become it too: the
    # Taiwan phrase of three mainland ones, not a mainland phrase of its own
    shared = {k for k, values in forward.items() if values[0] == k and len(reverse[k]) > 1}
    mainland = {form for k in forward if k not in shared for form in (k, t2s.convert(k))}
    table: dict[str, str] = {}
    for values in forward.values():
        for taiwan in values:
            if taiwan in mainland or taiwan in EVERYDAY or taiwan.lower() in table:
                continue
            meets = t2s.convert(MEETING.get(taiwan) or reverse[taiwan][0]).lower()
            if meets != t2s.convert(taiwan).lower():
                table[taiwan.lower()] = meets
    taiwan_phrases = list(table)
    for phrase in sorted(mainland):  # 方程式 holds 程式: kept whole
        if any(taiwan in phrase.lower() for taiwan in taiwan_phrases):
            table[phrase.lower()] = t2s.convert(phrase).lower()
    # what folding produces, folding leaves: no mainland phrase is rewritten again, and
    # tw2s (the fold's character step) keeps each one
    chars = opencc.OpenCC("tw2s")
    for mainland_phrase in table.values():
        assert table.get(mainland_phrase, mainland_phrase) == mainland_phrase, mainland_phrase
        assert chars.convert(mainland_phrase) == mainland_phrase, mainland_phrase
    return table


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def write_table(table: dict[str, str]) -> None:
    import opencc

    entries = [f"{k}={v}" for k, v in sorted(table.items())]
    lines, line = [], ""
    for entry in entries:
        if line and _width(line) + _width(entry) + 1 > 88:
            lines.append(line + " ")
            line = ""
        line += (" " if line else "") + entry
    lines.append(line)
    body = "\n".join(f'    "{text}"' for text in lines)
    TABLE.write_text(
        '"""Taiwan phrase → mainland phrase, for search folding (server/common/folding.py).\n\n'
        f"Generated by bench/fold_bench.py --write from OpenCC {opencc.__version__}'s TWPhrases:"
        " do not edit;\nchange the generator's lists and run it again.\n"
        '"""\n\n'
        "# One string of space-separated entries: the Taiwan phrase, '=', the mainland phrase.\n"
        f"ENTRIES = (\n{body}\n)\n"
    )


def _candidates() -> dict[str, Callable[[str], str]]:
    import opencc

    from server.common import folding

    cache: dict[str, opencc.OpenCC] = {}

    def chain(*configs: str) -> Callable[[str], str]:
        for config in configs:
            cache.setdefault(config, opencc.OpenCC(config))

        def convert(text: str) -> str:  # as the fold before issue #15: lower case last
            text = unicodedata.normalize("NFKC", text)
            for config in configs:
                text = cache[config].convert(text)
            return text.lower()

        return convert

    return {
        "NFKC and lower case only (the floor)": chain(),
        "`tw2sp` (before)": chain("tw2sp"),
        "`t2s`": chain("t2s"),
        "`s2twp` → `tw2sp`": chain("s2twp", "tw2sp"),
        "`s2twp` → `t2s`": chain("s2twp", "t2s"),
        "`hk2s` → `s2twp` → `tw2sp`": chain("hk2s", "s2twp", "tw2sp"),
        "`tw2s` + table, longest match anywhere": _table_anywhere(),
        "`tw2s` + table on whole words (chosen)": folding.fold,
    }


def _table_anywhere() -> Callable[[str], str]:
    """The same table applied as OpenCC applies its own: the longest match at every place,
    across words too (the chosen fold without its words check)."""
    from server.common import folding

    def convert(text: str) -> str:
        pre = unicodedata.normalize("NFKC", text).lower()
        simple = folding._simplify(pre)
        out, done = [], 0
        for match in folding._STARTS.finditer(pre):
            i = match.start()
            if i < done:
                continue
            heads = pre[i : i + 2], pre[i]
            for n in [n for head in heads for n in folding._LENGTHS.get(head, ())]:
                mainland = folding.PHRASES.get(pre[i : i + n])
                if mainland is not None and i + n <= len(pre):
                    out += [simple[done:i], mainland]
                    done = i + n
                    break
        out.append(simple[done:])
        return "".join(out)

    return convert


MAINLAND_POST = (
    "大家好，我是杭州的自由职业者，主要做品牌设计和小程序开发，报价按项目算。我们团队有十个人，"
    "接过很多品牌的案子，欢迎联系。合同、发票、尾款这些都可以聊，周末也能视频会议。\n"
)
TAIWAN_POST = (
    "大家好，我是台北的自由工作者，主要接網站和應用程式的案子，報價依專案計算。我們團隊有十個人，"
    "軟體、伺服器和資料庫都做過，歡迎聯絡。合約、發票、尾款都可以談，週末也能視訊會議。\n"
)


def measure(fold: Callable[[str], str]) -> dict[str, str]:
    from tests.common.fold_words import (
        APART,
        MAINLAND_SENTENCES,
        MAINLAND_WORDS,
        PAIRS,
        SENTENCE_PAIRS,
    )

    def plain(text: str) -> str:
        return unicodedata.normalize("NFKC", text).lower()

    def speed(post: str) -> str:
        text = post * (50_000 // len(post))
        samples = []
        for _ in range(7):
            start = time.perf_counter_ns()
            fold(text)
            samples.append((time.perf_counter_ns() - start) / len(text))
        return f"{statistics.median(samples):.0f}"

    pairs = PAIRS + APART
    words = [w for pair in pairs for w in pair] + MAINLAND_WORDS
    mainland = [m for m, _ in PAIRS] + MAINLAND_WORDS
    sentences = MAINLAND_SENTENCES + [s for pair in SENTENCE_PAIRS for s in pair]
    every = words + sentences
    return {
        "pairs met": f"{sum(fold(a) == fold(b) for a, b in pairs)}/{len(pairs)}",
        "sentence pairs met": f"{sum(fold(a) == fold(b) for a, b in SENTENCE_PAIRS)}"
        f"/{len(SENTENCE_PAIRS)}",
        "mainland words kept": f"{sum(fold(w) == plain(w) for w in mainland)}/{len(mainland)}",
        "mainland sentences kept": f"{sum(fold(s) == plain(s) for s in MAINLAND_SENTENCES)}"
        f"/{len(MAINLAND_SENTENCES)}",
        "idempotent": f"{sum(fold(fold(x)) == fold(x) for x in every)}/{len(every)}",
        "ns/char, mainland post": speed(MAINLAND_POST),
        "ns/char, Taiwan post": speed(TAIWAN_POST),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="regenerate the phrase table")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.write:
        table = build_table()
        write_table(table)
        print(f"wrote {len(table)} entries to {TABLE.relative_to(ROOT)}")
        return
    import rjieba

    rjieba.cut("预热")  # the dictionary loads once, outside the timings
    rows = {name: measure(fold) for name, fold in _candidates().items()}
    columns = list(next(iter(rows.values())))
    print("| candidate | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(row[c] for c in columns) + " |")
    print("\nns/char: the median of 7 folds of 50,000 characters of the post, NFKC included.")


if __name__ == "__main__":
    main()
